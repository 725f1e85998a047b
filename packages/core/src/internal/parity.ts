import type { ConversionOptions } from '../types.js'
import type { TelemeterCore } from './client.js'
import { describe } from './config.js'
import type { DeviceState } from './devices.js'
import type { RequestParams } from './request.js'

export const CONVERSION_KEY = 'conversionReported'

/** Parameters only Telemeter itself may set, or that the server refuses from SDKs (PROTOCOL §1). */
const FORBIDDEN_PARAMS = new Set(['app_id', 'user_id', 'checksum', 'checksum256'])
/** Parameters the server reads as JSON (PROTOCOL §1 "Parameter encoding"). */
const JSON_PARAMS = new Set([
  'events',
  'metrics',
  'user_details',
  'crash',
  'consent',
  'apm',
  'hc',
  'keys',
  'omit_keys',
])
/** Which feature a raw parameter belongs to, so policy and consent still apply to raw requests. */
const PARAM_FEATURES: Readonly<Record<string, Parameters<TelemeterCore['gate']['refusal']>[0]>> = {
  events: 'events',
  begin_session: 'sessions',
  session_duration: 'sessions',
  end_session: 'sessions',
  crash: 'crashes',
  apm: 'apm',
  user_details: 'users',
  location: 'location',
  country_code: 'location',
  city: 'location',
  campaign_id: 'attribution',
}
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype'])
/** Flags the server reads as set for any truthy value: only 1 means what the host can have meant. */
const FLAG_PARAMS = new Set(['begin_session', 'end_session', 'ignore_cooldown'])

/** `reportConversion`: `campaign_id` / `campaign_user`, once per device. */
export function reportConversionOf(core: TelemeterCore, device: DeviceState, input: unknown): void {
  const refusal = core.gate.refusal('attribution', device)
  if (refusal) return core.refuse('attribution', refusal, 0)
  const { campaignId, campaignUser } = (input && typeof input === 'object' ? input : {}) as ConversionOptions
  if (typeof campaignId !== 'string' || campaignId.trim() === '') {
    core.logger.warnOnce(
      'conversion',
      `reportConversion needs a campaignId string, got ${describe(campaignId)}; ignored`,
    )
    return core.refuse('attribution', 'invalid', 0)
  }
  // Whether the own device already converted is known only once storage is open.
  if (device === core.self && core.starting) {
    core.ready
      .then(() => {
        if (!core.closed) reportConversionOf(core, device, input)
      })
      .catch((error: Error) => core.reportError(error))
    return
  }
  const reported = device === core.self ? core.values[CONVERSION_KEY] === 'true' : device.conversionReported
  if (reported) {
    core.logger.debug('reportConversion ignored: this device already reported a conversion')
    return
  }
  const params: RequestParams = { campaign_id: campaignId.trim() }
  if (typeof campaignUser === 'string' && campaignUser.trim()) params.campaign_user = campaignUser.trim()
  device.conversionReported = true
  if (device === core.self) core.setValue(CONVERSION_KEY, 'true')
  core.enqueue(device, 'attribution', params, 0)
}

/**
 * `request(params)`: a raw `/i` request with the host's own parameters.
 * Only missing protocol parameters are added; JSON parameters given as
 * strings must parse (they are sent intact, never truncated); forbidden
 * parameters are removed; policy and consent apply per parameter.
 */
export function rawRequestOf(core: TelemeterCore, device: DeviceState, input: unknown): void {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    core.logger.warnOnce(
      'request:type',
      `request() needs an object of /i parameters, got ${describe(input)}; ignored`,
    )
    return core.refuse('internal', 'invalid', 0)
  }
  const params: RequestParams = {}
  let events = 0
  for (const [key, value] of Object.entries(input)) {
    if (PROTOTYPE_KEYS.has(key) || value === undefined || value === null) continue
    if (FORBIDDEN_PARAMS.has(key)) {
      core.logger.warnOnce(
        `request:forbidden:${key}`,
        `request(): "${key}" is never sent (the server refuses it or Telemeter sets it); removed`,
      )
      continue
    }
    const feature = PARAM_FEATURES[key]
    const refusal = feature ? core.gate.refusal(feature, device) : core.gate.refusal('internal', device)
    if (refusal) {
      core.logger.debug(`request(): "${key}" dropped (${refusal})`)
      continue
    }
    let clean: string | number | boolean | object
    if (JSON_PARAMS.has(key) && typeof value === 'string') {
      try {
        clean = JSON.parse(value) as object
      } catch {
        core.logger.warnOnce(
          `request:json:${key}`,
          `request(): "${key}" must be valid JSON; the parameter was removed`,
        )
        continue
      }
    } else if (
      typeof value === 'string' ||
      typeof value === 'number' ||
      typeof value === 'boolean' ||
      typeof value === 'object'
    ) {
      clean = value
    } else {
      core.logger.warnOnce(
        `request:value:${key}`,
        `request(): "${key}" has an unusable value (${typeof value}); removed`,
      )
      continue
    }
    if (FLAG_PARAMS.has(key) || key === 'metrics') {
      const checked = FLAG_PARAMS.has(key) ? flagValue(clean) : metricsValue(clean)
      if (checked === undefined) {
        core.logger.warnOnce(
          `request:value:${key}`,
          `request(): "${key}" must be ${key === 'metrics' ? 'an object of string values' : '1'}; removed`,
        )
        continue
      }
      clean = checked
    }
    if (key === 'events' && Array.isArray(clean)) events = clean.length
    params[key] = clean
  }
  if (Object.keys(params).length === 0)
    return core.refuse('internal', 'invalid', 0, 'request() had nothing to send')
  // A historical request (its own `timestamp`) gets the hour and weekday of that time, not of now.
  const given =
    typeof params.timestamp === 'string' || typeof params.timestamp === 'number'
      ? Number(params.timestamp)
      : NaN
  if (Number.isFinite(given) && given > 0) {
    const ms = given < 1e12 ? given * 1000 : given
    params.hour ??= core.clock.hourOf(ms)
    params.dow ??= core.clock.dowOf(ms)
  }
  core.enqueueRaw(device, params, events)
}

/** `reportAppStart()`: the `app_start` device trace from process start to now, once per process. */
export function reportAppStartOf(core: TelemeterCore, device: DeviceState): void {
  if (core.appStartReported) {
    core.logger.debug('reportAppStart ignored: already reported for this process')
    return
  }
  const refusal = core.gate.refusal('apm', device)
  if (refusal) return core.refuse('apm', refusal, 0)
  core.appStartReported = true
  const stz = Math.round(performance.timeOrigin)
  const etz = Date.now()
  core.enqueue(
    device,
    'apm',
    {
      apm: {
        type: 'device',
        name: 'app_start',
        stz,
        etz,
        apm_metrics: { duration: Math.max(0, etz - stz) },
        timestamp: stz,
        hour: core.clock.hourOf(stz),
        dow: core.clock.dowOf(stz),
      },
    },
    0,
  )
}

/** `begin_session` and the like: 1 for 1, "1" or true; anything else is not a flag the server reads right. */
function flagValue(value: unknown): 1 | undefined {
  return value === 1 || value === '1' || value === true ? 1 : undefined
}

/** `metrics`: the non-empty string (or finite number) entries; undefined when none is left. */
function metricsValue(value: unknown): Record<string, string> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
  const metrics: Record<string, string> = {}
  for (const [name, metric] of Object.entries(value)) {
    if (typeof metric === 'string' && metric.trim() !== '') metrics[name] = metric
    else if (typeof metric === 'number' && Number.isFinite(metric)) metrics[name] = String(metric)
  }
  return Object.keys(metrics).length > 0 ? metrics : undefined
}
