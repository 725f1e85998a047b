import Router from '@koa/router'
import { createTelemeter } from '@telemeter/core'
import { afterEach, describe, expect, it } from 'vitest'
import { telemeterKoa } from '../src/index.js'
import { APP_KEY, type Harness, KOA_VERSIONS, send, startApp, tracesReceived } from './helpers.js'

describe.each(KOA_VERSIONS)('%s: request lifecycle', (_name, Koa) => {
  let h: Harness
  afterEach(() => h.close())

  it('records a request once when telemeterKoa is installed twice (the first one records)', async () => {
    const other = createTelemeter({
      url: 'http://127.0.0.1:9',
      appKey: APP_KEY,
      storage: 'memory',
      disabled: true,
    })
    h = await startApp(Koa, {
      routes(app) {
        app.use(telemeterKoa(other))
        const router = new Router()
        router.get('/twice/:id', (ctx) => {
          ctx.body = { device: ctx.state.telemeter?.deviceId }
        })
        app.use(router.routes())
      },
    })
    const reply = await send(h, '/twice/1', { headers: { 'x-device-id': 'once' } })
    expect(JSON.parse(reply.body.toString())).toEqual({ device: 'once' })
    await tracesReceived(h, 1)
    expect(h.server.traces().map((t) => [t.name, t.device_id])).toEqual([['GET /twice/:id', 'once']])
    expect(other.stats().dropped).toBe(0)
    expect(h.server.violations).toEqual([])
    await other.shutdown()
  })

  it('records a client that went away before any response as 499, and an error thrown after it', async () => {
    let reached!: () => void
    const inHandler = new Promise<void>((resolve) => {
      reached = resolve
    })
    h = await startApp(Koa, {
      routes(app) {
        const router = new Router()
        router.get('/reports/:id', async (ctx) => {
          reached()
          await new Promise((resolve) => ctx.res.once('close', resolve))
          throw new Error('report abandoned')
        })
        app.use(router.routes())
      },
    })
    const aborter = new AbortController()
    const pending = fetch(`${h.base}/reports/7`, { signal: aborter.signal }).catch((error: Error) => error)
    await inHandler
    aborter.abort()
    expect(await pending).toBeInstanceOf(Error)
    await tracesReceived(h, 1)
    await h.server.waitFor((s) => s.crashes().length === 1)
    expect(
      h.server.traces().map((t) => [t.name, t.metrics.response_code, t.metrics.response_payload_size]),
    ).toEqual([['GET /reports/:id', 499, 0]])
    expect(h.server.crashes().map((c) => [c.name, c.custom])).toEqual([
      ['Error: report abandoned', { method: 'GET', route: '/reports/:id', status: 500 }],
    ])
    expect(h.server.violations).toEqual([])
  })
})
