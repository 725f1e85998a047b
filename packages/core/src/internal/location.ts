import { isIP } from 'node:net'
import type { LocationOptions } from '../types.js'
import type { TelemeterCore } from './client.js'
import { describe } from './config.js'
import type { DeviceState } from './devices.js'

/** Location parameters as the server reads them (PROTOCOL §2.7); never empty values. */
export interface LocationParams {
  country_code?: string
  city?: string
  location?: string
  ip_address?: string
}

/** Validate and convert host input; undefined when nothing usable is left. */
export function locationParams(core: TelemeterCore, input: unknown): LocationParams | undefined {
  if (input === null || typeof input !== 'object') {
    core.logger.warnOnce('location:type', `setLocation needs an object, got ${describe(input)}; ignored`)
    return undefined
  }
  const { countryCode, city, latitude, longitude, ip } = input as LocationOptions
  const params: LocationParams = {}
  if (countryCode !== undefined) {
    if (typeof countryCode === 'string' && /^[a-zA-Z]{2}$/.test(countryCode.trim())) {
      params.country_code = countryCode.trim().toUpperCase()
    } else
      core.logger.warnOnce(
        'location:country',
        `countryCode must be an ISO 3166-1 alpha-2 code, got ${describe(countryCode)}`,
      )
  }
  if (city !== undefined) {
    if (typeof city !== 'string' || city.trim() === '')
      core.logger.warnOnce('location:city', 'city must be a non-empty string')
    else if (!params.country_code)
      core.logger.warnOnce('location:city-only', 'city is sent only together with countryCode; ignored')
    else params.city = core.sanitizer.string(city.trim(), core.settings.limits.valueSize, 'city')
  }
  if (latitude !== undefined || longitude !== undefined) {
    const valid =
      typeof latitude === 'number' &&
      typeof longitude === 'number' &&
      Math.abs(latitude) <= 90 &&
      Math.abs(longitude) <= 180 &&
      Number.isFinite(latitude) &&
      Number.isFinite(longitude)
    if (valid) params.location = `${latitude},${longitude}`
    else
      core.logger.warnOnce(
        'location:gps',
        'latitude and longitude must both be finite numbers in range; ignored',
      )
  }
  if (ip !== undefined) {
    if (typeof ip === 'string' && isIP(ip.trim()) !== 0) params.ip_address = ip.trim()
    else core.logger.warnOnce('location:ip', `ip must be an IPv4 or IPv6 address, got ${describe(ip)}`)
  }
  return Object.keys(params).length > 0 ? params : undefined
}

export function setLocationOf(core: TelemeterCore, device: DeviceState, input: unknown): void {
  const refusal = core.gate.refusal('location', device)
  if (refusal) return core.refuse('location', refusal, 0)
  const params = locationParams(core, input)
  if (!params) return
  device.location = params
  device.locationDisabled = false
  // With a session running the server learns it now; otherwise it goes with the next begin_session.
  if (device.sessionActive) core.enqueue(device, 'location', { ...params }, 0)
}

/**
 * The documented opt-out (PROTOCOL §2.7) is an empty `location` together with
 * `begin_session`: the server ignores it on any other request. So it goes
 * with the device's next session start (and every one after, until
 * `setLocation` opts in again), never as a request of its own.
 */
export function disableLocationOf(_core: TelemeterCore, device: DeviceState): void {
  device.location = undefined
  device.locationDisabled = true
}

/** Location parameters for a begin_session: the opt-out when not allowed, else what is known. */
export function sessionLocation(
  core: TelemeterCore,
  device: DeviceState,
): LocationParams | { location: '' } | undefined {
  if (device.locationDisabled || core.gate.refusal('location', device)) return { location: '' }
  // The configured location (countryCode/city/ip) describes the instance's own device, not other devices.
  return device.location ?? (device === core.self ? core.initLocation : undefined)
}
