import { afterEach, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../src/index.js'
import { base, get } from './helpers.js'

let server: TestServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

/** A request at `t0 + offsetS` seconds: the server measures cooldowns in request time. */
function at(t0: number, offsetS: number, deviceId: string, extra: Record<string, unknown>) {
  return base(deviceId, { timestamp: t0 + offsetS * 1000, ...extra })
}
const T0 = Math.floor((Date.now() - 3_600_000) / 1000) * 1000

describe('sessions', () => {
  it('begins a session and emits [CLY]_session_begin', async () => {
    server = await startTestServer()
    await get(server, at(T0, 0, 'dev', { begin_session: 1, metrics: { _os: 'Linux' } }))
    const user = server.user('dev')
    expect(user).toMatchObject({ sc: 1, hos: true, sd: 0, tsd: 0, lbst: T0 / 1000, fs: T0 / 1000 })
    const [begin] = server.events({ key: '[CLY]_session_begin' })
    expect(begin).toMatchObject({ device_id: 'dev', count: 1, dur: 0, timestamp: T0 })
    expect(begin?.segmentation).toMatchObject({ request_id: user?.lsid, ended: 'false' })
    expect(begin?.segmentation.prev_session).toBeUndefined()
    expect(typeof begin?.segmentation.postfix).toBe('string')
    expect(server.violations).toEqual([])
  })

  it('adds session_duration to sd and tsd', async () => {
    server = await startTestServer()
    await get(server, at(T0, 0, 'dev', { begin_session: 1 }))
    await get(server, at(T0, 60, 'dev', { session_duration: 60 }))
    await get(server, at(T0, 90, 'dev', { session_duration: 30 }))
    expect(server.user('dev')).toMatchObject({ sd: 90, tsd: 90, hos: true })
  })

  it('continues the previous session when begin comes within the cooldown', async () => {
    server = await startTestServer({ sessionCooldownS: 15 })
    await get(server, at(T0, 0, 'dev', { begin_session: 1 }))
    await get(server, at(T0, 10, 'dev', { end_session: 1, session_duration: 10 }))
    expect(server.user('dev')).toMatchObject({ hos: false, lest: T0 / 1000 + 10, sd: 10 })
    expect(server.events({ key: '[CLY]_session' })).toEqual([])
    await get(server, at(T0, 20, 'dev', { begin_session: 1 }))
    expect(server.user('dev')).toMatchObject({ sc: 1, hos: true, sd: 10 })
    expect(server.events({ key: '[CLY]_session_begin' })).toHaveLength(1)
  })

  it('closes the ended session when a begin arrives after the cooldown', async () => {
    server = await startTestServer({ sessionCooldownS: 15 })
    await get(server, at(T0, 0, 'dev', { begin_session: 1 }))
    const firstSession = server.user('dev')?.lsid
    await get(server, at(T0, 40, 'dev', { end_session: 1, session_duration: 40 }))
    await get(server, at(T0, 100, 'dev', { begin_session: 1 }))
    const ends = server.events({ key: '[CLY]_session' })
    expect(ends).toHaveLength(1)
    expect(ends[0]).toMatchObject({ dur: 40, segmentation: { request_id: firstSession, ended: 'true' } })
    const begins = server.events({ key: '[CLY]_session_begin' })
    expect(begins[1]?.segmentation).toMatchObject({ prev_session: firstSession })
    expect(server.user('dev')).toMatchObject({ sc: 2, sd: 0, tsd: 40, hos: true })
  })

  it('writes [CLY]_session once the cooldown has passed', async () => {
    server = await startTestServer({ sessionCooldownS: 0.2 })
    await get(server, base('dev', { begin_session: 1 }))
    await get(server, base('dev', { end_session: 1, session_duration: 7 }))
    expect(server.events({ key: '[CLY]_session' })).toEqual([])
    await server.waitFor((s) => s.events({ key: '[CLY]_session' }).length === 1, 2000)
    expect(server.events({ key: '[CLY]_session' })[0]?.dur).toBe(7)
  })

  it('finalises at once with sessionCooldownS 0', async () => {
    server = await startTestServer({ sessionCooldownS: 0 })
    await get(server, at(T0, 0, 'dev', { begin_session: 1 }))
    await get(server, at(T0, 5, 'dev', { end_session: 1, session_duration: 5 }))
    expect(server.events({ key: '[CLY]_session' }).map((e) => e.dur)).toEqual([5])
    await get(server, at(T0, 6, 'dev', { begin_session: 1 }))
    expect(server.user('dev')?.sc).toBe(2)
  })

  it('finalises at once with ignore_cooldown: dur = sd + session_duration', async () => {
    server = await startTestServer()
    await get(server, at(T0, 0, 'dev', { begin_session: 1 }))
    await get(server, at(T0, 30, 'dev', { session_duration: 30 }))
    await get(server, at(T0, 42, 'dev', { end_session: 1, session_duration: 12, ignore_cooldown: 1 }))
    expect(server.events({ key: '[CLY]_session' }).map((e) => e.dur)).toEqual([42])
    expect(server.user('dev')).toMatchObject({ hos: false, lest: undefined, tsd: 42 })
    await get(server, at(T0, 43, 'dev', { begin_session: 1, ignore_cooldown: 1 }))
    expect(server.user('dev')?.sc).toBe(2)
    expect(server.events({ key: '[CLY]_session' })).toHaveLength(1)
  })

  it('closes an ongoing session when a new begin arrives without an end', async () => {
    server = await startTestServer()
    await get(server, at(T0, 0, 'dev', { begin_session: 1 }))
    await get(server, at(T0, 20, 'dev', { session_duration: 20 }))
    await get(server, at(T0, 500, 'dev', { begin_session: 1 }))
    expect(server.events({ key: '[CLY]_session' }).map((e) => e.dur)).toEqual([20])
    expect(server.user('dev')).toMatchObject({ sc: 2, sd: 0 })
  })

  it('caps session_duration at 86400 and replaces negative values by 30', async () => {
    server = await startTestServer()
    await get(server, at(T0, 0, 'dev', { begin_session: 1 }))
    await get(server, at(T0, 1, 'dev', { session_duration: 100_000 }))
    await get(server, at(T0, 2, 'dev', { session_duration: -5 }))
    expect(server.user('dev')?.tsd).toBe(86_400 + 30)
    expect(server.violations.map((v) => v.code)).toEqual([
      'invalid-session-duration',
      'invalid-session-duration',
    ])
  })

  it('treats any truthy flag as set and reports surprising values', async () => {
    server = await startTestServer()
    await get(server, at(T0, 0, 'dev', { begin_session: '0' }))
    expect(server.user('dev')?.sc).toBe(1)
    expect(server.violations[0]).toMatchObject({
      code: 'invalid-flag',
      message: expect.stringContaining('begin_session="0"'),
    })
    await get(server, at(T0, 1, 'other', { begin_session: 1, end_session: 1 }))
    expect(server.user('other')).toMatchObject({ sc: 1, hos: true })
  })

  it('resets the view count on begin', async () => {
    server = await startTestServer()
    await get(server, at(T0, 0, 'dev', { begin_session: 1 }))
    await get(
      server,
      at(T0, 1, 'dev', { events: [{ key: '[CLY]_view', segmentation: { name: 'home', visit: 1 } }] }),
    )
    expect(server.user('dev')).toMatchObject({ vc: 1, lv: 'home' })
    await get(server, at(T0, 1000, 'dev', { begin_session: 1 }))
    expect(server.user('dev')).toMatchObject({ vc: 0, lv: undefined })
  })
})
