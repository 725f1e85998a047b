import { describe, expect, it } from 'vitest'
import type { DropInfo } from '../src/index.js'
import { setup, sleep } from './helpers.js'

describe('delivery policy', () => {
  it('retries 5xx with backoff, keeping the original timestamp, and delivers once the server is back', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' })
    server.setFault({ type: 'status', status: 503, times: 3 })
    telemeter.event('kept')
    await server.waitFor((s) => s.events({ key: 'kept' }).length === 1, 5_000)
    await telemeter.flush()
    const attempts = server.requests.filter((r) => r.endpoint === '/i')
    expect(attempts.map((r) => r.status)).toEqual([503, 503, 503, 200])
    const stamps = attempts.map((r) => r.query.timestamp)
    expect(new Set(stamps).size).toBe(1)
    expect(telemeter.stats()).toMatchObject({ sent: 1, retried: 3, dropped: 0 })
  })

  it('honours Retry-After on 429', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' })
    server.setFault({ type: 'rate-limit', retryAfterS: 1, times: 1 })
    telemeter.event('limited')
    await server.waitFor((s) => s.events({ key: 'limited' }).length === 1, 5_000)
    const [first, second] = server.requests
    expect(first!.status).toBe(429)
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950)
  })

  it('retries the transient 400s of the protocol', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' })
    server.setFault({ type: 'reject', message: 'Cannot get app user', times: 2 })
    telemeter.event('transient')
    await server.waitFor((s) => s.events({ key: 'transient' }).length === 1, 5_000)
    expect(telemeter.stats().dropped).toBe(0)
  })

  it('drops a permanently rejected request, counts it, and keeps the queue moving', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' })
    const dropped: DropInfo[] = []
    telemeter.on('dropped', (info) => dropped.push(info))
    server.setFault({ type: 'reject', message: 'App does not exist', times: 1 })
    telemeter.event('doomed')
    await telemeter.flush()
    telemeter.event('fine')
    await telemeter.flush()
    expect(dropped).toEqual([
      {
        reason: 'rejected',
        requests: 1,
        events: 1,
        feature: 'events',
        detail: 'HTTP 400: App does not exist',
      },
    ])
    expect(server.events().map((e) => e.key)).toEqual(['fine'])
    expect(telemeter.stats()).toMatchObject({ dropped: 1, droppedEvents: 1, sent: 1 })
  })

  it('treats a checksum refusal as permanent', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own', salt: 'wrong' }, { salt: 'right' })
    const dropped: DropInfo[] = []
    telemeter.on('dropped', (info) => dropped.push(info))
    telemeter.event('unsigned')
    await telemeter.flush()
    expect(dropped[0]).toMatchObject({ reason: 'rejected', detail: 'Request does not match checksum' })
    expect(server.events()).toEqual([])
  })

  it('logs a failing backend once per state change, not per retry', async () => {
    const { server, telemeter, logger } = await setup({ deviceId: 'own' })
    server.setFault({ type: 'status', status: 500, times: 6 })
    telemeter.event('noisy')
    await server.waitFor((s) => s.events({ key: 'noisy' }).length === 1, 10_000)
    await telemeter.flush()
    expect(logger.warnings().filter((w) => w.includes('cannot deliver'))).toHaveLength(1)
    expect(logger.lines.filter((l) => l.level === 'info' && l.message.includes('works again'))).toHaveLength(
      1,
    )
  })

  it('survives a server that is down, then delivers everything in order', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' })
    server.setFault({ type: 'down' })
    for (let i = 0; i < 5; i++) {
      telemeter.event('offline', { segmentation: { i } })
      await sleep(30)
    }
    await sleep(200)
    expect(server.events()).toEqual([])
    server.setFault(null)
    await server.waitFor((s) => s.events({ key: 'offline' }).length === 5, 5_000)
    expect(server.events().map((e) => e.segmentation.i)).toEqual([0, 1, 2, 3, 4])
  })

  it('times out slow responses and retries them', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own', requestTimeoutMs: 200 })
    server.setFault({ type: 'hang', times: 1 })
    telemeter.event('patient')
    await server.waitFor((s) => s.events({ key: 'patient' }).length === 1, 5_000)
    expect(telemeter.stats().retried).toBeGreaterThanOrEqual(1)
  })

  it('a reset after processing is retried with the same timestamp and absorbed by the duplicate check', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' })
    server.setFault({ type: 'reset-after-processing', times: 1 })
    telemeter.event('once')
    await server.waitFor((s) => s.items.some((i) => i.outcome === 'duplicate'), 5_000)
    await telemeter.flush()
    expect(server.events({ key: 'once' })).toHaveLength(1)
    expect(telemeter.stats()).toMatchObject({ sent: 1, dropped: 0 })
  })

  it('cannot be exhausted by an oversized, non-JSON or never-ending answer', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own', requestTimeoutMs: 300 })
    for (const fault of [
      { type: 'oversized-response', bytes: 50 * 1024 * 1024 },
      { type: 'non-json' },
      { type: 'never-ending' },
    ] as const) {
      server.setFault({ ...fault, times: 1 })
      telemeter.event(fault.type)
      await server.waitFor((s) => s.events({ key: fault.type }).length >= 1, 5_000)
    }
    const started = Date.now()
    await telemeter.shutdown({ timeoutMs: 1_000 })
    expect(Date.now() - started).toBeLessThan(1_500)
    expect(process.memoryUsage().rss).toBeLessThan(1024 * 1024 * 1024)
  })

  it('drops the oldest requests beyond maxQueueSize and reports them', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own', maxQueueSize: 5 })
    const dropped: DropInfo[] = []
    telemeter.on('dropped', (info) => dropped.push(info))
    server.setFault({ type: 'down' })
    for (let i = 0; i < 8; i++) telemeter.forDevice(`d${i}`).event('q')
    await sleep(100)
    expect(telemeter.stats().queued).toBe(5)
    expect(dropped.filter((d) => d.reason === 'queue-full').reduce((n, d) => n + d.events, 0)).toBe(3)
    server.setFault(null)
    await server.waitFor((s) => s.events().length === 5, 5_000)
    expect(server.events().map((e) => e.device_id)).toEqual(['d3', 'd4', 'd5', 'd6', 'd7'])
  })
})
