import Router from '@koa/router'
import { TELEMETER_REQUEST_HEADER } from '@telemeter/core'
import type Koa from 'koa'
import { afterEach, describe, expect, it } from 'vitest'
import { type Harness, KOA_VERSIONS, send, startApp, tracesReceived } from './helpers.js'

function routes(app: Koa): void {
  const router = new Router()
  for (const path of [
    '/health',
    '/healthz',
    '/ready',
    '/metrics',
    '/favicon.ico',
    '/internal/jobs',
    '/debug/vars',
  ]) {
    router.get(path, (ctx) => {
      ctx.body = 'ok'
    })
  }
  router.get('/users/:id', (ctx) => {
    ctx.body = { id: ctx.params.id }
  })
  router.options('/users/:id', (ctx) => {
    ctx.status = 204
  })
  router.get('/missing', (ctx) => ctx.throw(404))
  router.get('/boom', () => {
    throw new Error('boom')
  })
  router.get('/overloaded', (ctx) => {
    ctx.status = 503
  })
  app.use(router.routes())
}

/** Requests, then one marker request every test traces, so "nothing else arrived" is checked after it. */
async function drive(h: Harness, requests: [string, RequestInit?][]): Promise<string[]> {
  for (const [path, init] of requests) await send(h, path, init)
  await send(h, '/users/marker', { headers: { 'x-device-id': 'marker' } })
  await h.flush()
  await h.server.waitFor((s) => s.traces({ deviceId: 'marker' }).length === 1)
  return h.server
    .traces()
    .filter((t) => t.device_id !== 'marker')
    .map((t) => `${t.name} ${t.metrics.response_code}`)
}

describe.each(KOA_VERSIONS)('%s: ignore rules and sampling', (_name, Koa) => {
  let h: Harness
  afterEach(() => h.close())

  it('ignores health checks, readiness, metrics, favicon, OPTIONS and Telemeter’s own requests by default', async () => {
    h = await startApp(Koa, { routes })
    const traced = await drive(h, [
      ['/health'],
      ['/healthz'],
      ['/ready'],
      ['/metrics'],
      ['/favicon.ico'],
      ['/users/1', { method: 'OPTIONS' }],
      ['/users/2', { headers: { [TELEMETER_REQUEST_HEADER]: '1' } }],
      ['/users/3'],
    ])
    expect(traced).toEqual(['GET /users/:id 200'])
    expect(h.server.violations).toEqual([])
  })

  it('adds ignore rules (prefix strings, RegExps, predicates on ctx); ignoreDefaults: false keeps probes', async () => {
    h = await startApp(Koa, {
      routes,
      options: {
        ignoreDefaults: false,
        ignore: [
          '/internal/*',
          /^\/debug\//,
          (ctx) => ctx.get('user-agent').startsWith('kube-probe'),
          () => {
            throw new Error('rule bug')
          },
        ],
      },
    })
    const traced = await drive(h, [
      ['/internal/jobs'],
      ['/debug/vars'],
      ['/users/4', { headers: { 'user-agent': 'kube-probe/1.29' } }],
      ['/health'],
      ['/users/5', { method: 'OPTIONS' }],
    ])
    expect(traced).toEqual(['GET /health 200', 'OPTIONS /users/:id 204'])
    expect(h.server.violations).toEqual([])
  })

  it('with sampleRate: 0 drops successful traces but keeps every error and 5xx trace', async () => {
    h = await startApp(Koa, { routes, options: { sampleRate: 0 } })
    for (const path of ['/users/1', '/missing', '/boom', '/overloaded']) await send(h, path)
    await tracesReceived(h, 3)
    await h.server.waitFor((s) => s.crashes().length === 2)
    expect(h.server.traces().map((t) => `${t.name} ${t.metrics.response_code}`)).toEqual([
      'GET /missing 404',
      'GET /boom 500',
      'GET /overloaded 503',
    ])
    expect(h.server.crashes().map((c) => c.name)).toEqual([
      'Error: boom',
      'HTTP 503: GET /overloaded responded 503',
    ])
    expect(h.server.violations).toEqual([])
  })

  it('counts unsampled requests in their device’s session', async () => {
    h = await startApp(Koa, { routes, options: { sampleRate: 0 } })
    await send(h, '/users/1', { headers: { 'x-device-id': 'unsampled-1' } })
    await send(h, '/missing', { headers: { 'x-device-id': 'unsampled-2' } })
    await tracesReceived(h, 1)
    await h.server.waitFor((s) => s.items.filter((i) => i.params.begin_session !== undefined).length === 2)
    expect(h.server.user('unsampled-1')).toMatchObject({ sc: 1, hos: true })
    expect(h.server.traces().map((t) => [t.name, t.device_id])).toEqual([['GET /missing', 'unsampled-2']])
    expect(h.server.violations).toEqual([])
  })

  it('lets sampler(ctx) pick requests instead of sampleRate', async () => {
    h = await startApp(Koa, {
      routes,
      options: {
        sampleRate: 1,
        sampler: (ctx) => ctx.get('x-sample') === 'yes' || ctx.get('x-device-id') === 'marker',
      },
    })
    const traced = await drive(h, [
      ['/users/6', { headers: { 'x-sample': 'yes' } }],
      ['/users/7', { headers: { 'x-sample': 'no' } }],
      ['/users/8'],
    ])
    expect(traced).toEqual(['GET /users/:id 200'])
    expect(h.server.violations).toEqual([])
  })
})
