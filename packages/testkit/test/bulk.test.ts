import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../src/index.js'
import { APP_KEY, base, encode, postForm, postJson, SUCCESS } from './helpers.js'

let server: TestServer

beforeEach(async () => {
  server = await startTestServer({ appKey: [APP_KEY, 'SECOND'] })
})
afterEach(async () => {
  await server.close()
})

describe('/i/bulk', () => {
  it('expands a JSON body whose items carry real arrays and objects', async () => {
    const res = await postJson(
      server,
      {
        app_key: APP_KEY,
        requests: [
          base('u1', { begin_session: 1, metrics: { _os: 'Linux', _app_version: '1.0.0' } }),
          base('u2', { events: [{ key: 'purchase', count: 2, sum: 3.5, segmentation: { plan: 'pro' } }] }),
        ],
      },
      '/i/bulk',
    )
    expect(res.json).toEqual(SUCCESS)
    expect(server.items.map((i) => [i.via, i.device_id, i.outcome])).toEqual([
      ['bulk', 'u1', 'processed'],
      ['bulk', 'u2', 'processed'],
    ])
    expect(server.items.every((i) => i.requestIndex === 0)).toBe(true)
    expect(server.user('u1')?.metrics).toEqual({ _os: 'Linux', _app_version: '1.0.0' })
    expect(server.events({ key: 'purchase' })[0]).toMatchObject({
      device_id: 'u2',
      count: 2,
      sum: 3.5,
      segmentation: { plan: 'pro' },
    })
    expect(server.violations).toEqual([])
  })

  it('expands an urlencoded body whose requests param is a JSON string with JSON-string params', async () => {
    const requests = [
      base('u1', { events: JSON.stringify([{ key: 'e1' }]) }),
      base('u2', { events: JSON.stringify([{ key: 'e2' }]) }),
    ]
    const res = await postForm(server, encode({ app_key: APP_KEY, requests }), '/i/bulk')
    expect(res.json).toEqual(SUCCESS)
    expect(server.events().map((e) => [e.device_id, e.key])).toEqual([
      ['u1', 'e1'],
      ['u2', 'e2'],
    ])
  })

  it('uses the top-level app_key only for items without their own', async () => {
    const { app_key: _ignored, ...withoutKey } = base('plain')
    await postJson(
      server,
      { app_key: APP_KEY, requests: [withoutKey, base('own', { app_key: 'SECOND' })] },
      '/i/bulk',
    )
    expect(server.items.map((i) => [i.device_id, i.app_key])).toEqual([
      ['plain', APP_KEY],
      ['own', 'SECOND'],
    ])
    expect(server.items[0]?.params.app_key).toBe(APP_KEY)
  })

  it('skips items without device_id or app key silently but reports them', async () => {
    const { app_key: _a, ...noAppKey } = base('no-key')
    const res = await postJson(
      server,
      { requests: [{ app_key: APP_KEY }, noAppKey, null, base('ok')] },
      '/i/bulk',
    )
    expect(res.json).toEqual(SUCCESS)
    expect(server.items.map((i) => i.outcome)).toEqual(['ignored', 'ignored', 'ignored', 'processed'])
    expect(server.violations.map((v) => v.code)).toEqual([
      'bulk-item-skipped',
      'bulk-item-skipped',
      'bulk-item-skipped',
    ])
  })

  it('drops items with an unknown app key while still answering 200', async () => {
    const res = await postJson(server, { requests: [base('x', { app_key: 'NOPE' })] }, '/i/bulk')
    expect(res.json).toEqual(SUCCESS)
    expect(server.items[0]).toMatchObject({ outcome: 'rejected', reason: 'App does not exist' })
    expect(server.violations[0]?.code).toBe('bulk-item-rejected')
  })

  it('rejects a missing requests param', async () => {
    const res = await postForm(server, encode({ app_key: APP_KEY }), '/i/bulk')
    expect(res.status).toBe(400)
    expect(res.json).toEqual({ result: 'Missing parameter "requests"' })
  })

  it('rejects unparseable requests as missing and reports the JSON', async () => {
    const res = await postForm(server, `app_key=${APP_KEY}&requests=%5Bbroken`, '/i/bulk')
    expect(res.status).toBe(400)
    expect(res.json).toEqual({ result: 'Missing parameter "requests"' })
    expect(server.violations[0]?.code).toBe('malformed-json')
  })

  it('rejects requests that are not an array', async () => {
    const res = await postJson(server, { app_key: APP_KEY, requests: { device_id: 'x' } }, '/i/bulk')
    expect(res.status).toBe(400)
    expect(res.json).toEqual({ result: 'Invalid parameter "requests"' })
    expect(server.items).toEqual([])
  })

  it('processes items sequentially through the full pipeline (session then events of one user)', async () => {
    await server.close()
    server = await startTestServer({ sessionCooldownS: 0 })
    await postJson(
      server,
      {
        requests: [
          base('seq', { begin_session: 1 }),
          base('seq', { events: [{ key: 'mid' }] }),
          base('seq', { end_session: 1, session_duration: 30 }),
        ],
      },
      '/i/bulk',
    )
    expect(server.events({ deviceId: 'seq' }).map((e) => e.key)).toEqual([
      '[CLY]_session_begin',
      'mid',
      '[CLY]_session',
    ])
    expect(server.events({ key: '[CLY]_session' })[0]?.dur).toBe(30)
  })

  it('answers before processing when safe is false', async () => {
    await server.close()
    server = await startTestServer({ safe: false })
    const res = await postJson(
      server,
      { requests: [base('late', { events: [{ key: 'later' }] })] },
      '/i/bulk',
    )
    expect(res.json).toEqual(SUCCESS)
    await server.waitFor((s) => s.events({ key: 'later' }).length === 1, 1000)
    expect(server.items[0]?.outcome).toBe('processed')
  })
})
