import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../src/index.js'
import {
  APP_KEY,
  base,
  encode,
  getRaw,
  postForm,
  postJson,
  SUCCESS,
  sha1Upper,
  sha256Upper,
} from './helpers.js'

const SALT = 'S3CRET'
let server: TestServer

beforeEach(async () => {
  server = await startTestServer({ salt: SALT })
})
afterEach(async () => {
  await server.close()
})

describe('checksum256 (SHA-256)', () => {
  it('accepts a GET whose checksum256 is the last param', async () => {
    const data = encode(base('dev-1', { events: [{ key: 'ok' }] }))
    const res = await getRaw(server, `/i?${data}&checksum256=${sha256Upper(data + SALT)}`)
    expect(res.json).toEqual(SUCCESS)
    expect(server.items[0]?.outcome).toBe('processed')
    expect(server.events({ key: 'ok' })).toHaveLength(1)
    expect(server.violations).toEqual([])
  })

  it('compares case-insensitively', async () => {
    const data = encode(base('dev-1'))
    const res = await getRaw(server, `/i?${data}&checksum256=${sha256Upper(data + SALT).toLowerCase()}`)
    expect(res.json).toEqual(SUCCESS)
  })

  it('accepts a POST body carrying the checksum', async () => {
    const data = encode(base('dev-1'))
    const res = await postForm(server, `${data}&checksum256=${sha256Upper(data + SALT)}`)
    expect(res.json).toEqual(SUCCESS)
    expect(server.items[0]?.via).toBe('POST')
  })

  it('accepts a POST whose checksum covers the query string', async () => {
    const data = encode(base('dev-1'))
    const res = await fetch(`${server.url}/i?${data}&checksum256=${sha256Upper(data + SALT)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'extra=1',
    })
    expect(await res.json()).toEqual(SUCCESS)
  })

  it('removes a checksum in the middle of the payload', async () => {
    const first = encode({ app_key: APP_KEY, device_id: 'mid' })
    const rest = encode({ timestamp: Date.now() })
    const checksum = sha256Upper(`${first}&${rest}${SALT}`)
    const res = await getRaw(server, `/i?${first}&checksum256=${checksum}&${rest}`)
    expect(res.json).toEqual(SUCCESS)
  })

  it('removes a leading checksum without its "&", so the remaining "&…" must be what was hashed', async () => {
    const data = encode(base('lead'))
    const naive = await getRaw(server, `/i?checksum256=${sha256Upper(data + SALT)}&${data}`)
    expect(naive.json).toEqual({ result: 'Request does not match checksum' })
    const exact = await getRaw(server, `/i?checksum256=${sha256Upper(`&${data}${SALT}`)}&${data}`)
    expect(exact.json).toEqual(SUCCESS)
  })
})

describe('checksum (SHA-1)', () => {
  it('accepts a valid sha1 checksum on GET and POST', async () => {
    const data = encode(base('sha1'))
    expect((await getRaw(server, `/i?${data}&checksum=${sha1Upper(data + SALT)}`)).json).toEqual(SUCCESS)
    const post = encode(base('sha1'))
    expect((await postForm(server, `${post}&checksum=${sha1Upper(post + SALT)}`)).json).toEqual(SUCCESS)
  })

  it('checks checksum before checksum256: a wrong sha1 fails even with a right sha256', async () => {
    const data = encode(base('both'))
    const res = await getRaw(server, `/i?${data}&checksum256=${sha256Upper(data + SALT)}&checksum=BAD`)
    expect(res.status).toBe(200)
    expect(res.json).toEqual({ result: 'Request does not match checksum' })
  })
})

describe('failures', () => {
  it('answers 200 "Request does not have checksum" and drops the request', async () => {
    const res = await getRaw(server, `/i?${encode(base('none', { begin_session: 1 }))}`)
    expect(res.status).toBe(200)
    expect(res.json).toEqual({ result: 'Request does not have checksum' })
    expect(server.items[0]).toMatchObject({ outcome: 'rejected', reason: 'Request does not have checksum' })
    expect(server.users()).toEqual([])
    expect(server.violations[0]).toMatchObject({ code: 'checksum-missing', deviceId: 'none' })
  })

  it('answers 200 "Request does not match checksum" for a wrong salt', async () => {
    const data = encode(base('wrong'))
    const res = await getRaw(server, `/i?${data}&checksum256=${sha256Upper(`${data}other-salt`)}`)
    expect(res.status).toBe(200)
    expect(res.json).toEqual({ result: 'Request does not match checksum' })
    expect(server.violations[0]?.code).toBe('checksum-mismatch')
  })

  it('applies to /o/sdk too', async () => {
    const missing = await getRaw(server, `/o/sdk?${encode(base('rc', { method: 'rc' }))}`)
    expect(missing.json).toEqual({ result: 'Request does not have checksum' })
    const data = encode(base('rc', { method: 'rc' }))
    const ok = await getRaw(server, `/o/sdk?${data}&checksum256=${sha256Upper(data + SALT)}`)
    expect(ok.json).toEqual({})
  })

  it('rejects every bulk item: bulk with salt is unsupported by the real server', async () => {
    const res = await postJson(server, { app_key: APP_KEY, requests: [base('b1'), base('b2')] }, '/i/bulk')
    expect(res.json).toEqual(SUCCESS)
    expect(server.items.map((i) => [i.device_id, i.outcome, i.reason])).toEqual([
      ['b1', 'rejected', 'bulk with salt is unsupported by the real server'],
      ['b2', 'rejected', 'bulk with salt is unsupported by the real server'],
    ])
    expect(server.violations.map((v) => v.code)).toEqual(['bulk-with-salt', 'bulk-with-salt'])
    expect(server.users()).toEqual([])
  })
})
