import { Readable } from 'node:stream'
import Router from '@koa/router'
import type Koa from 'koa'
import { afterEach, describe, expect, it } from 'vitest'
import { type Harness, KOA_VERSIONS, send, startApp, tracesReceived } from './helpers.js'

class ExposedError extends Error {
  expose = true
}

function routes(app: Koa): void {
  const router = new Router()
  router.get('/boom', async () => {
    await Promise.resolve()
    throw new Error('database is down')
  })
  router.get('/sync-boom', () => {
    throw new TypeError('cannot read the cart')
  })
  router.get('/users/:id', (ctx) => ctx.throw(404, 'no such user'))
  router.post('/orders', (ctx) => ctx.throw(400))
  router.get('/server-error', (ctx) => ctx.throw(500))
  router.get('/unavailable', () => {
    throw Object.assign(new Error('upstream unavailable'), { status: 503 })
  })
  router.get('/exposed', () => {
    throw new ExposedError('quota exceeded, retry tomorrow')
  })
  router.get('/maintenance', (ctx) => {
    ctx.status = 503
    ctx.body = 'maintenance'
  })
  router.get('/thrown-string', () => {
    throw 'oops'
  })
  router.get('/broken-stream', (ctx) => {
    let sent = false
    ctx.body = new Readable({
      read() {
        if (!sent) {
          sent = true
          this.push('partial ')
        } else setImmediate(() => this.destroy(new Error('disk read failed')))
      },
    })
  })
  app.use(router.routes())
  app.use(router.allowedMethods())
}

describe.each(KOA_VERSIONS)('%s: errors', (_name, Koa) => {
  let h: Harness
  let appErrors: unknown[]
  afterEach(() => h.close())

  async function start(options?: Parameters<typeof startApp>[1]['options']) {
    appErrors = []
    h = await startApp(Koa, {
      options,
      routes,
      before(app) {
        app.on('error', (error: unknown) => appErrors.push(error))
      },
    })
  }

  it('reports a thrown error once, rethrown so Koa answers as without Telemeter', async () => {
    await start()
    const async = await send(h, '/boom')
    expect(async.status).toBe(500)
    expect(async.body.toString()).toBe('Internal Server Error')
    const sync = await send(h, '/sync-boom')
    expect(sync.status).toBe(500)
    await tracesReceived(h, 2)
    const crashes = h.server.crashes('koa-server')
    expect(crashes.map((c) => c.name)).toEqual(['Error: database is down', 'TypeError: cannot read the cart'])
    expect(crashes[0]).toMatchObject({
      nonfatal: true,
      app_version: '1.2.3',
      custom: { method: 'GET', route: '/boom', status: 500 },
    })
    expect(crashes[0]!.error).toMatch(/^Error: database is down\n\s+at /)
    expect(crashes[1]!.custom).toEqual({ method: 'GET', route: '/sync-boom', status: 500 })
    expect(h.server.traces({ name: 'GET /boom' })[0]!.metrics).toMatchObject({
      response_code: 500,
      response_payload_size: 'Internal Server Error'.length,
    })
    expect(h.server.traces({ name: 'GET /sync-boom' })[0]!.metrics.response_code).toBe(500)
    // Koa emitted each on app.on('error') too: that is not a second report.
    expect(appErrors.map((e) => (e as Error).message)).toEqual(['database is down', 'cannot read the cart'])
    expect(h.server.violations).toEqual([])
  })

  it('does not report ctx.throw(4xx) or errors with expose: true, and keeps their traces', async () => {
    await start({ sampleRate: 0 })
    const notFound = await send(h, '/users/9')
    expect(notFound.status).toBe(404)
    expect(notFound.body.toString()).toBe('no such user')
    expect((await send(h, '/orders', { method: 'POST' })).status).toBe(400)
    const exposed = await send(h, '/exposed')
    expect(exposed.status).toBe(500)
    expect(exposed.body.toString()).toBe('quota exceeded, retry tomorrow')
    await tracesReceived(h, 3)
    expect(h.server.traces().map((t) => [t.name, t.metrics.response_code])).toEqual([
      ['GET /users/:id', 404],
      ['POST /orders', 400],
      ['GET /exposed', 500],
    ])
    // An exposed error answered 500 is still the client's error: no "HTTP 500" crash either.
    expect(h.server.crashes()).toEqual([])
    expect(h.server.violations).toEqual([])
  })

  it('reports ctx.throw(500), errors with a 5xx status, thrown non-Errors and 5xx set without a throw', async () => {
    await start()
    expect((await send(h, '/server-error')).status).toBe(500)
    expect((await send(h, '/unavailable')).status).toBe(503)
    expect((await send(h, '/thrown-string')).status).toBe(500)
    const maintenance = await send(h, '/maintenance')
    expect(maintenance.status).toBe(503)
    expect(maintenance.body.toString()).toBe('maintenance')
    await tracesReceived(h, 4)
    const crashes = h.server.crashes()
    expect(crashes.map((c) => [c.name, c.custom])).toEqual([
      ['InternalServerError: Internal Server Error', { method: 'GET', route: '/server-error', status: 500 }],
      ['Error: upstream unavailable', { method: 'GET', route: '/unavailable', status: 503 }],
      ['Non-Error thrown (string): oops', { method: 'GET', route: '/thrown-string', status: 500 }],
      ['HTTP 503: GET /maintenance responded 503', { method: 'GET', route: '/maintenance', status: 503 }],
    ])
    expect(h.server.traces({ name: 'GET /maintenance' })[0]!.metrics).toMatchObject({
      response_code: 503,
      response_payload_size: 'maintenance'.length,
    })
    expect(h.server.violations).toEqual([])
  })

  it('lets shouldCaptureError(err, ctx) decide, both ways', async () => {
    await start({ shouldCaptureError: (_error, ctx) => ctx.path === '/orders' })
    expect((await send(h, '/orders', { method: 'POST' })).status).toBe(400)
    expect((await send(h, '/boom')).status).toBe(500)
    await tracesReceived(h, 2)
    expect(h.server.crashes().map((c) => [c.name, c.custom])).toEqual([
      ['BadRequestError: Bad Request', { method: 'POST', route: '/orders', status: 400 }],
    ])
    expect(h.server.violations).toEqual([])
  })

  it('falls back to the default when shouldCaptureError throws', async () => {
    await start({
      shouldCaptureError: () => {
        throw new Error('hook bug')
      },
    })
    expect((await send(h, '/boom')).status).toBe(500)
    expect((await send(h, '/users/1')).status).toBe(404)
    await tracesReceived(h, 2)
    expect(h.server.crashes().map((c) => c.name)).toEqual(['Error: database is down'])
    expect(h.warnings).toContain('[telemeter] shouldCaptureError threw (hook bug); default used')
    expect(h.server.violations).toEqual([])
  })

  it('reports a body stream that fails mid-response once, though Koa only emits it on app.on("error")', async () => {
    await start()
    const aborter = new AbortController()
    const response = await fetch(`${h.base}/broken-stream`, { signal: aborter.signal })
    expect(response.status).toBe(200)
    const reader = response.body!.getReader()
    expect(Buffer.from((await reader.read()).value!).toString()).toBe('partial ')
    await h.flush()
    await h.server.waitFor((s) => s.crashes().length > 0)
    // Koa 3 ends the response; Koa 2 leaves it open until the client gives up.
    aborter.abort()
    await reader.read().catch(() => undefined)
    await tracesReceived(h, 1)
    expect(h.server.crashes().map((c) => [c.name, c.custom])).toEqual([
      ['Error: disk read failed', { method: 'GET', route: '/broken-stream', status: 200 }],
    ])
    expect(h.server.traces({ name: 'GET /broken-stream' })[0]!.metrics).toMatchObject({
      response_code: 200,
      response_payload_size: 'partial '.length,
    })
    // Koa 3 emits this error on the app twice itself; still one crash.
    expect(appErrors.length).toBeGreaterThanOrEqual(1)
    expect(new Set(appErrors.map((e) => (e as Error).message))).toEqual(new Set(['disk read failed']))
    expect(h.server.violations).toEqual([])
  })
})
