import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../src/index.js'
import { base, get } from './helpers.js'

let server: TestServer
beforeEach(async () => {
  server = await startTestServer({
    remoteConfig: { color: 'blue', limit: 10, flags: { beta: true } },
    sdkConfig: { rqs: 500, eqs: 20 },
  })
})
afterEach(async () => {
  await server.close()
})

const sdk = (params: Record<string, unknown>, deviceId = 'rc-dev') =>
  get(server, base(deviceId, params), '/o/sdk')

describe('/o/sdk remote config', () => {
  it('serves every value as a raw JSON object', async () => {
    const res = await sdk({ method: 'rc' })
    expect(res.status).toBe(200)
    expect(res.json).toEqual({ color: 'blue', limit: 10, flags: { beta: true } })
  })

  it('honours keys and omit_keys, also on fetch_remote_config', async () => {
    expect((await sdk({ method: 'rc', keys: ['color', 'missing'] })).json).toEqual({ color: 'blue' })
    expect((await sdk({ method: 'fetch_remote_config', omit_keys: ['color'] })).json).toEqual({
      limit: 10,
      flags: { beta: true },
    })
    expect(server.violations).toEqual([])
  })

  it('serves values changed by setRemoteConfig', async () => {
    server.setRemoteConfig({ color: 'red' })
    expect((await sdk({ method: 'rc' })).json).toEqual({ color: 'red' })
  })

  it('enrols the user with oi=1 and method=ab', async () => {
    await sdk({ method: 'rc', keys: ['color'], oi: 1 })
    expect(server.user('rc-dev')?.rc_enrolments).toEqual(['color'])
    const ab = await sdk({ method: 'ab', keys: ['limit'] })
    expect(ab.json).toEqual({ result: 'Successfully enrolled in ab tests' })
    expect(server.user('rc-dev')?.rc_enrolments).toEqual(['color', 'limit'])
    expect((await sdk({ method: 'ab' })).json).toEqual({ result: 'Missing Keys' })
  })

  it('reports malformed keys', async () => {
    const res = await get(server, { ...base('rc-dev', { method: 'rc' }), keys: '[color' }, '/o/sdk')
    expect(res.json).toEqual({ color: 'blue', limit: 10, flags: { beta: true } })
    expect(server.violations[0]?.code).toBe('malformed-json')
  })
})

describe('/o/sdk other methods', () => {
  it('serves SDK behaviour settings as {v:2, t, c}', async () => {
    const before = Date.now()
    const res = await sdk({ method: 'sc' })
    const body = res.json as { v: number; t: number; c: unknown }
    expect(body.v).toBe(2)
    expect(body.t).toBeGreaterThanOrEqual(before)
    expect(body.c).toEqual({ rqs: 500, eqs: 20 })
    server.setSdkConfig({ networking: false })
    expect(((await sdk({ method: 'sc' })).json as { c: unknown }).c).toEqual({ networking: false })
  })

  it('answers feedback with an empty widget list', async () => {
    expect((await sdk({ method: 'feedback' })).json).toEqual({ result: [] })
  })

  it.each([{ method: 'nope' }, {}])('answers 400 Invalid method for %j', async (params) => {
    const res = await sdk(params)
    expect(res.status).toBe(400)
    expect(res.json).toEqual({ result: 'Invalid method' })
  })

  it('requires app_key and device_id and a known app', async () => {
    const missing = await get(server, { app_key: 'TEST_APP_KEY', method: 'rc' }, '/o/sdk')
    expect(missing.status).toBe(400)
    expect(missing.json).toEqual({ result: 'Missing parameter "app_key" or "device_id"' })
    const unknown = await sdk({ method: 'rc', app_key: 'OTHER' })
    expect(unknown.status).toBe(400)
    expect(unknown.json).toEqual({ result: 'App does not exist' })
  })

  it('creates the user and merges old_device_id, without storing metrics or recording items', async () => {
    await get(server, base('anon', { begin_session: 1 }))
    await sdk({ method: 'rc', old_device_id: 'anon', metrics: { _os: 'Linux' } }, 'known')
    expect(server.user('known')).toMatchObject({ sc: 1, merged_ids: ['anon'], metrics: {} })
    expect(server.items).toHaveLength(1)
  })
})
