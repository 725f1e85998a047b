import { describe, expect, it } from 'vitest'
import type { DeviceScope, Telemeter } from '../../src/index.js'
import { setup } from '../helpers.js'
import { itemsOf, paramsWith } from './support.js'

const LOCATION_PARAMS = ['location', 'country_code', 'city', 'ip_address', 'region']

/** The location parameters of each processed item of a device that has any. */
function locationsOf(server: Parameters<typeof itemsOf>[0], deviceId: string) {
  return itemsOf(server, deviceId)
    .map((item) => {
      const picked: Record<string, unknown> = {}
      for (const key of LOCATION_PARAMS) if (item.params[key] !== undefined) picked[key] = item.params[key]
      if (item.params.begin_session !== undefined) picked.begin_session = Number(item.params.begin_session)
      return picked
    })
    .filter((picked) => LOCATION_PARAMS.some((key) => key in picked))
}

describe.each([
  ['the Telemeter', (telemeter: Telemeter) => telemeter as DeviceScope, 'own'],
  ['a forDevice scope', (telemeter: Telemeter) => telemeter.forDevice('user-1'), 'user-1'],
])('location on %s', (_label, scopeOf, deviceId) => {
  it('sends a location set before the session with begin_session, and one set during it at once', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' }, { sessionCooldownS: 0 })
    const scope = scopeOf(telemeter)
    scope.setLocation({
      countryCode: 'de',
      city: ' Berlin ',
      latitude: 52.52,
      longitude: 13.405,
      ip: '203.0.113.7',
    })
    scope.beginSession()
    scope.setLocation({ countryCode: 'FR', city: 'Paris' })
    await telemeter.flush()
    expect(locationsOf(server, deviceId)).toEqual([
      {
        begin_session: 1,
        country_code: 'DE',
        city: 'Berlin',
        location: '52.52,13.405',
        ip_address: '203.0.113.7',
      },
      { country_code: 'FR', city: 'Paris' },
    ])
    expect(server.user(deviceId)).toMatchObject({
      country_code: 'FR',
      city: 'Paris',
      location: { lat: 52.52, lng: 13.405 },
    })
    expect(server.violations).toEqual([])
  })

  it('sends a city only with a country, and never an empty or invalid value', async () => {
    const { server, telemeter, logger } = await setup({ deviceId: 'own' }, { sessionCooldownS: 0 })
    const scope = scopeOf(telemeter)
    scope.beginSession()
    const bad: unknown[] = [
      { city: 'Berlin' },
      { countryCode: 'Germany' },
      { countryCode: '' },
      { city: '' },
      { latitude: 91, longitude: 0 },
      { latitude: 10 },
      { latitude: Number.NaN, longitude: 1 },
      { ip: 'not-an-ip' },
      { ip: '' },
      null,
      'DE',
      {},
    ]
    for (const location of bad) expect(() => scope.setLocation(location as never)).not.toThrow()
    scope.setLocation({ countryCode: 'DE', city: 'Berlin' })
    await telemeter.flush()
    expect(locationsOf(server, deviceId)).toEqual([{ country_code: 'DE', city: 'Berlin' }])
    const warnings = logger.warnings().join('\n')
    expect(warnings).toContain('city is sent only together with countryCode')
    expect(warnings).toContain('countryCode must be an ISO 3166-1 alpha-2 code')
    expect(warnings).toContain('latitude and longitude must both be finite numbers')
    expect(warnings).toContain('ip must be an IPv4 or IPv6 address')
    expect(warnings).toContain('setLocation needs an object')
    expect(server.violations).toEqual([])
  })

  it('opts out with location="" on the next begin_session, and setLocation opts in again', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' }, { sessionCooldownS: 0 })
    const scope = scopeOf(telemeter)
    scope.setLocation({ countryCode: 'DE', city: 'Berlin' })
    scope.beginSession()
    scope.disableLocation()
    scope.endSession()
    scope.beginSession()
    scope.endSession()
    await telemeter.flush()
    expect(locationsOf(server, deviceId)).toEqual([
      { begin_session: 1, country_code: 'DE', city: 'Berlin' },
      { begin_session: 1, location: '' },
    ])
    expect(server.user(deviceId)).toMatchObject({
      country_code: 'Unknown',
      city: 'Unknown',
      location: undefined,
    })

    scope.setLocation({ countryCode: 'NL' })
    scope.beginSession()
    await telemeter.flush()
    expect(locationsOf(server, deviceId).at(-1)).toEqual({ begin_session: 1, country_code: 'NL' })
    expect(server.user(deviceId)?.country_code).toBe('NL')
    // Every empty value that reached the server was the documented opt-out.
    const empty = itemsOf(server, deviceId).filter((item) =>
      Object.values(item.params).some((value) => value === ''),
    )
    expect(empty.map((item) => [Number(item.params.begin_session), item.params.location])).toEqual([[1, '']])
    expect(paramsWith(server, deviceId, 'location').every((p) => Number(p.begin_session) === 1)).toBe(true)
    expect(server.violations).toEqual([])
  })

  it('honours location consent and forgets the location when it is removed', async () => {
    const { server, telemeter } = await setup(
      { deviceId: 'own', requireConsent: true },
      { sessionCooldownS: 0 },
    )
    await telemeter.flush()
    const scope = scopeOf(telemeter)
    scope.giveConsent('sessions', 'location')
    scope.setLocation({ countryCode: 'DE' })
    scope.beginSession()
    scope.removeConsent('location')
    scope.setLocation({ countryCode: 'FR' })
    scope.endSession()
    scope.beginSession()
    await telemeter.flush()
    expect(locationsOf(server, deviceId)).toEqual([
      { begin_session: 1, country_code: 'DE' },
      { begin_session: 1, location: '' },
    ])
    expect(server.violations).toEqual([])
  })
})
