import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../src/index.js'
import { base, get, postJson } from './helpers.js'

let server: TestServer
beforeEach(async () => {
  server = await startTestServer()
})
afterEach(async () => {
  await server.close()
})

const details = (deviceId: string, user_details: unknown) => get(server, base(deviceId, { user_details }))
const codes = () => server.violations.map((v) => v.code)

describe('user_details', () => {
  it('stores standard fields and custom values; "" unsets', async () => {
    await details('u', {
      name: 'Ada',
      email: 'ada@example.com',
      byear: 1990,
      gender: 'F',
      custom: { plan: 'pro', seats: 3, temp: 'x' },
    })
    await details('u', { email: '', custom: { temp: '' } })
    const user = server.user('u')
    expect(user).toMatchObject({ name: 'Ada', byear: 1990, gender: 'F', custom: { plan: 'pro', seats: 3 } })
    expect(user?.email).toBeUndefined()
    expect(user?.custom).not.toHaveProperty('temp')
    expect(server.violations).toEqual([])
  })

  it('applies every operator', async () => {
    await details('u', {
      custom: { visits: 1, score: 10, low: 5, high: 5, tags: ['a'], set: ['x'], list: ['a', 'b', 'a', 'c'] },
    })
    await details('u', {
      custom: {
        visits: { $inc: 2 },
        score: { $mul: 1.5 },
        low: { $min: 3 },
        high: { $max: 9 },
        first: { $setOnce: 'one' },
        tags: { $push: ['b', 'b'] },
        set: { $addToSet: ['x', 'y'] },
        list: { $pull: ['a'] },
        fresh: { $inc: 4 },
      },
    })
    await details('u', { custom: { first: { $setOnce: 'two' }, high: { $max: 1 } } })
    expect(server.user('u')?.custom).toEqual({
      visits: 3,
      score: 15,
      low: 3,
      high: 9,
      first: 'one',
      tags: ['a', 'b', 'b'],
      set: ['x', 'y'],
      list: ['b', 'c'],
      fresh: 4,
    })
    expect(server.violations).toEqual([])
  })

  it('refuses prototype keys, $ / dotted keys, unknown operators and unknown fields', async () => {
    await postJson(
      server,
      base('u', {
        user_details: JSON.parse(
          '{"custom":{"__proto__":{"polluted":true},"$bad":1,"a.b":1,"ok":1,"n":{"$unknown":1}},"nickname":"x"}',
        ),
      }),
    )
    expect(server.user('u')?.custom).toEqual({ ok: 1 })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(codes()).toEqual([
      'invalid-user-details',
      'invalid-user-details',
      'invalid-user-details',
      'invalid-user-details',
      'invalid-user-details',
    ])
    expect(server.violations.map((v) => v.message).join('\n')).toContain('"__proto__" is refused')
  })

  it('reports non-numeric operator arguments', async () => {
    await details('u', { custom: { visits: { $inc: 'one' } } })
    expect(server.user('u')?.custom).toEqual({})
    expect(codes()).toEqual(['invalid-user-details'])
  })
})

describe('consent', () => {
  it('emits [CLY]_consent only for changed keys with _bf and _type', async () => {
    await get(server, base('c', { consent: { sessions: true, events: true } }))
    await get(server, base('c', { consent: { sessions: true, crashes: false } }))
    await get(server, base('c', { consent: { sessions: true, crashes: false } }))
    await get(server, base('c', { consent: { events: false, crashes: true } }))
    const events = server.events({ key: '[CLY]_consent' })
    expect(events.map((e) => e.segmentation)).toEqual([
      { sessions: 'true', sessions_bf: null, events: 'true', events_bf: null, _type: 'i' },
      { sessions_bf: true, events_bf: true, crashes: 'false', crashes_bf: null, _type: 'o' },
      {
        sessions_bf: true,
        events_bf: true,
        crashes_bf: false,
        events: 'false',
        crashes: 'true',
        _type: ['i', 'o'],
      },
    ])
    expect(server.user('c')?.consent).toEqual({ sessions: true, events: false, crashes: true })
    expect(server.violations).toEqual([])
  })

  it('reports non-boolean values and reads them by truthiness', async () => {
    await get(server, base('c', { consent: { sessions: 'false' } }))
    expect(server.user('c')?.consent).toEqual({ sessions: true })
    expect(codes()).toEqual(['invalid-consent'])
  })
})

describe('device id change (old_device_id)', () => {
  it('renames the old user when the new one does not exist', async () => {
    await get(server, base('anon', { begin_session: 1, user_details: { custom: { plan: 'free' } } }))
    await get(server, base('user-1', { old_device_id: 'anon' }))
    expect(server.user('anon')).toBeUndefined()
    expect(server.user('user-1')).toMatchObject({
      sc: 1,
      merged_ids: ['anon'],
      custom: { plan: 'free' },
      did: 'user-1',
    })
    expect(server.users()).toHaveLength(1)
  })

  it('folds the old user into an existing one, the new user winning', async () => {
    await get(
      server,
      base('anon', {
        begin_session: 1,
        consent: { push: true, sessions: false },
        user_details: { name: 'Old', custom: { a: 1, b: 1 } },
      }),
    )
    await get(
      server,
      base('known', { begin_session: 1, consent: { sessions: true }, user_details: { custom: { b: 2 } } }),
    )
    await get(server, base('known', { old_device_id: 'anon' }))
    expect(server.user('known')).toMatchObject({
      sc: 2,
      name: 'Old',
      custom: { a: 1, b: 2 },
      consent: { push: true, sessions: true },
      merged_ids: ['anon'],
    })
    expect(server.user('anon')).toBeUndefined()
  })

  it('creates the new user when the old one is unknown', async () => {
    await get(server, base('new', { old_device_id: 'never-seen' }))
    expect(server.user('new')?.merged_ids).toEqual([])
  })
})

describe('plain user fields', () => {
  it('stores metrics, sdk, t, rr, hc, tz and campaign', async () => {
    await get(
      server,
      base('f', {
        begin_session: 1,
        metrics: { _os: 'Linux', _os_version: '6.8', _app_version: '1.2.3', _locale: 'en-US' },
        t: 1,
        rr: 7,
        hc: { el: 0, wl: 1, sc: 200, em: '' },
        campaign_id: 'spring',
        campaign_user: 'cu1',
      }),
    )
    expect(server.user('f')).toMatchObject({
      metrics: { _os: 'Linux', _os_version: '6.8', _app_version: '1.2.3', _locale: 'en-US' },
      sdk: { name: 'telemeter-node', version: '1.0.0' },
      t: 1,
      rr: 7,
      hc: { el: 0, wl: 1, sc: 200, em: '' },
      tz: 60,
      campaign_id: 'spring',
      campaign_user: 'cu1',
    })
    expect(server.violations).toEqual([])
  })

  it('reports OS names Countly does not map and empty metrics', async () => {
    await get(server, base('f', { metrics: { _os: 'Darwin', _carrier: '' } }))
    expect(server.user('f')?.metrics).toEqual({ _os: 'Darwin' })
    expect(codes()).toEqual(['invalid-metric', 'invalid-metric'])
    expect(server.violations[0]?.message).toContain('Linux, macOS, Windows')
  })
})

describe('location', () => {
  it('stores coordinates, country and city', async () => {
    await get(
      server,
      base('l', { location: '52.52,13.405', country_code: 'DE', city: 'Berlin', region: 'BE' }),
    )
    expect(server.user('l')).toMatchObject({
      location: { lat: 52.52, lng: 13.405 },
      country_code: 'DE',
      city: 'Berlin',
      region: 'BE',
    })
  })

  it('opts out with an empty location on begin_session', async () => {
    await get(server, base('l', { location: '1,2' }))
    await get(server, base('l', { begin_session: 1, location: '' }))
    expect(server.user('l')).toMatchObject({
      location: undefined,
      country_code: 'Unknown',
      city: 'Unknown',
      region: 'Unknown',
    })
    expect(server.violations).toEqual([])
  })

  it('reports an empty location without begin_session and malformed coordinates', async () => {
    await get(server, base('l', { location: '' }))
    await get(server, base('l', { location: 'berlin' }))
    await get(server, base('l', { location: '95,10' }))
    expect(server.user('l')?.location).toBeUndefined()
    expect(codes()).toEqual(['invalid-location', 'invalid-location', 'invalid-location'])
  })
})
