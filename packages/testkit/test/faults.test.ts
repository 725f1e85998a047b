import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../src/index.js'
import { base, encode, get, postJson, SUCCESS } from './helpers.js'

let server: TestServer
beforeEach(async () => {
  server = await startTestServer()
})
afterEach(async () => {
  await server.close()
})

const url = (deviceId = 'dev', extra: Record<string, unknown> = {}) =>
  `${server.url}/i?${encode(base(deviceId, extra))}`

describe('answering faults (request not processed)', () => {
  it('status: answers the status with the default body', async () => {
    server.setFault({ type: 'status', status: 503 })
    const res = await fetch(url())
    expect(res.status).toBe(503)
    expect(await res.json()).toEqual({ result: 'Server error' })
    expect(server.items).toEqual([])
    expect(server.requests[0]).toMatchObject({ status: 503, fault: 'status' })
  })

  it('status: answers a custom body', async () => {
    server.setFault({ type: 'status', status: 502, body: 'Bad gateway' })
    const res = await fetch(url())
    expect(res.status).toBe(502)
    expect(await res.text()).toBe('Bad gateway')
  })

  it('rate-limit: 429 with Retry-After', async () => {
    server.setFault({ type: 'rate-limit', retryAfterS: 7 })
    const res = await fetch(url())
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('7')
    expect(server.items).toEqual([])
  })

  it('reject: 400 with the message, HTML-escaped like Countly', async () => {
    server.setFault({ type: 'reject', message: 'Cannot get app user' })
    const res = await fetch(url())
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ result: 'Cannot get app user' })
    server.setFault({ type: 'reject', message: 'bad <b>' })
    expect(await (await fetch(url())).text()).toBe('{"result":"bad &lt;b&gt;"}')
  })

  it('non-json: 200 text/html', async () => {
    server.setFault({ type: 'non-json' })
    const res = await fetch(url())
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(await res.text()).toContain('<html>')
    expect(server.items).toEqual([])
  })

  it('never-ending: 200 and chunks that never stop', async () => {
    server.setFault({ type: 'never-ending' })
    const controller = new AbortController()
    const res = await fetch(url(), { signal: controller.signal })
    expect(res.status).toBe(200)
    const reader = res.body?.getReader()
    let received = 0
    while (received < 100_000) {
      const chunk = await reader?.read()
      received += chunk?.value?.length ?? 0
    }
    controller.abort()
    expect(received).toBeGreaterThanOrEqual(100_000)
    expect(server.items).toEqual([])
  })
})

describe('connection faults', () => {
  it('reset: destroys the socket without processing', async () => {
    server.setFault({ type: 'reset' })
    await expect(fetch(url())).rejects.toThrow()
    expect(server.requests[0]).toMatchObject({ fault: 'reset', status: undefined })
    expect(server.items).toEqual([])
  })

  it('reset-after-processing: the data is stored but the client sees an error', async () => {
    server.setFault({ type: 'reset-after-processing' })
    await expect(fetch(url('dev', { events: [{ key: 'delivered' }] }))).rejects.toThrow()
    expect(server.items[0]?.outcome).toBe('processed')
    expect(server.events({ key: 'delivered' })).toHaveLength(1)
  })

  it('hang: never answers until close()', async () => {
    server.setFault({ type: 'hang' })
    await expect(fetch(url(), { signal: AbortSignal.timeout(200) })).rejects.toThrow()
    expect(server.requests[0]).toMatchObject({ fault: 'hang', status: undefined })
  })

  it('down: refuses connections, then listens again on the same port', async () => {
    const port = server.port
    await get(server, base('dev'))
    server.setFault({ type: 'down' })
    await expect(fetch(url())).rejects.toThrow()
    await expect(fetch(url())).rejects.toThrow()
    server.setFault(null)
    const res = await get(server, base('dev'))
    expect(res.json).toEqual(SUCCESS)
    expect(server.port).toBe(port)
    expect(server.requests).toHaveLength(2)
  })
})

describe('processing faults', () => {
  it('slow: processes at once and answers after delayMs', async () => {
    server.setFault({ type: 'slow', delayMs: 400 })
    const started = Date.now()
    let answered = false
    const pending = fetch(url('dev', { events: [{ key: 'slow' }] })).then((res) => {
      answered = true
      return res
    })
    await server.waitFor((s) => s.events({ key: 'slow' }).length === 1, 1000)
    expect(answered).toBe(false)
    const res = await pending
    expect(await res.json()).toEqual(SUCCESS)
    expect(Date.now() - started).toBeGreaterThanOrEqual(390)
  })

  it('oversized-response: 200 with a valid JSON body of the given size', async () => {
    server.setFault({ type: 'oversized-response', bytes: 3 * 1024 * 1024 })
    const res = await fetch(url())
    const text = await res.text()
    expect(res.status).toBe(200)
    expect(text.length).toBe(3 * 1024 * 1024)
    expect(JSON.parse(text).result).toBe('Success')
    expect(server.items[0]?.outcome).toBe('processed')
  })
})

describe('fault scope', () => {
  it('times: applies to the next N requests, then clears', async () => {
    server.setFault({ type: 'status', status: 500, times: 2 })
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await fetch(url(`d${i}`))).status)
    expect(statuses).toEqual([500, 500, 200])
    expect(server.items.map((i) => i.device_id)).toEqual(['d2'])
  })

  it('match: only affects matching requests (and counts only those)', async () => {
    server.setFault({ type: 'status', status: 503, times: 1, match: (req) => req.endpoint === '/i/bulk' })
    expect((await fetch(url())).status).toBe(200)
    expect((await postJson(server, { requests: [base('b')] }, '/i/bulk')).status).toBe(503)
    expect((await postJson(server, { requests: [base('b')] }, '/i/bulk')).status).toBe(200)
  })

  it('setFault(null) clears the fault', async () => {
    server.setFault({ type: 'status', status: 500 })
    expect((await fetch(url())).status).toBe(500)
    server.setFault(null)
    expect((await fetch(url())).status).toBe(200)
  })
})
