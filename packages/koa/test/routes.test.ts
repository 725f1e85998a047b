import Router from '@koa/router'
import type Koa from 'koa'
import { afterEach, describe, expect, it } from 'vitest'
import { type Harness, KOA_VERSIONS, send, startApp, traceNamed, tracesReceived } from './helpers.js'

/** Root routes, a prefixed router with router-level middleware, nested routers two deep, a prefixed mount. */
function routes(app: Koa): void {
  const root = new Router()
  root.get('/', (ctx) => {
    ctx.body = 'home'
  })
  root.post('/things', (ctx) => {
    ctx.status = 201
    ctx.body = { created: true }
  })
  root.get(/^\/files\/(.+)$/, (ctx) => {
    ctx.body = 'file'
  })

  const api = new Router({ prefix: '/api/:version' })
  api.use(async (ctx, next) => {
    if (ctx.get('x-deny')) ctx.throw(401, 'denied')
    await next()
  })
  api.get('/users/:id', (ctx) => {
    ctx.body = { id: ctx.params.id }
  })
  const items = new Router()
  items.get('/items/:itemId', (ctx) => {
    ctx.body = { item: ctx.params.itemId }
  })
  const shelves = new Router()
  shelves.use('/shelves/:shelf', items.routes())
  api.use('/v1', items.routes(), shelves.routes())
  root.use('/orgs/:org', api.routes())

  app.use(root.routes())
  app.use(root.allowedMethods())
  app.use(api.routes())
}

describe.each(KOA_VERSIONS)(
  '%s: one network trace per request, named after the route template',
  (_name, Koa) => {
    let h: Harness
    afterEach(() => h.close())

    it('names traces after full templates: prefixes, param prefixes, nested routers, RegExp routes', async () => {
      h = await startApp(Koa, { routes })
      const requests: [string, number][] = [
        ['/', 200],
        ['/api/2/users/7?token=secret', 200],
        ['/api/2/v1/items/9', 200],
        ['/api/2/v1/shelves/a1/items/3', 200],
        ['/orgs/acme/api/3/users/8', 200],
        ['/files/a/b.txt', 200],
      ]
      const bodies: Buffer[] = []
      for (const [path, status] of requests) {
        const reply = await send(h, path)
        expect(reply.status).toBe(status)
        bodies.push(reply.body)
      }
      await tracesReceived(h, requests.length)
      const expected = [
        'GET /',
        'GET /api/:version/users/:id',
        'GET /api/:version/v1/items/:itemId',
        'GET /api/:version/v1/shelves/:shelf/items/:itemId',
        'GET /orgs/:org/api/:version/users/:id',
        `GET ${String(/^\/files\/(.+)$/)}`,
      ]
      expected.forEach((name, index) => {
        const trace = traceNamed(h, name)
        expect(trace.device_id).toBe('koa-server')
        expect(trace.type).toBe('network')
        expect(trace.metrics).toEqual({
          response_time: trace.metrics.response_time,
          response_code: 200,
          request_payload_size: 0,
          response_payload_size: bodies[index]!.length,
        })
      })
      expect(h.server.traces().map((t) => t.name)).toEqual(expect.arrayContaining(expected))
      expect(h.server.traces()).toHaveLength(expected.length)
      expect(JSON.stringify(h.server.requests.map((r) => r.body))).not.toContain('secret')
      expect(h.server.violations).toEqual([])
    })

    it('puts unmatched paths and unmatched methods in one `unknown route` bucket per method', async () => {
      h = await startApp(Koa, { routes })
      expect((await send(h, '/nope/123')).status).toBe(404)
      expect((await send(h, '/nope/456?q=1')).status).toBe(404)
      expect((await send(h, '/things', { method: 'PUT' })).status).toBe(405)
      expect((await send(h, '/things', { method: 'DELETE', headers: { 'x-device-id': 'd-1' } })).status).toBe(
        405,
      )
      await tracesReceived(h, 4)
      const unknown = h.server.traces({ name: 'GET unknown route' })
      expect(unknown.map((t) => t.metrics.response_code)).toEqual([404, 404])
      expect(traceNamed(h, 'PUT unknown route').metrics.response_code).toBe(405)
      expect(traceNamed(h, 'DELETE unknown route').device_id).toBe('d-1')
      expect(h.server.traces()).toHaveLength(4)
      expect(h.server.crashes()).toEqual([])
      expect(h.server.violations).toEqual([])
    })

    it('names a request that router middleware ends (401) after the route it was going to', async () => {
      h = await startApp(Koa, { routes })
      const denied = await send(h, '/api/2/users/7', { headers: { 'x-deny': '1' } })
      expect(denied.status).toBe(401)
      expect(denied.body.toString()).toBe('denied')
      await tracesReceived(h, 1)
      expect(traceNamed(h, 'GET /api/:version/users/:id').metrics).toMatchObject({
        response_code: 401,
        response_payload_size: 'denied'.length,
      })
      expect(h.server.crashes()).toEqual([])
      expect(h.server.violations).toEqual([])
    })

    it('records request sizes from Content-Length and the method as sent (POST, HEAD)', async () => {
      h = await startApp(Koa, { routes })
      const payload = JSON.stringify({ name: 'Zoë', tags: ['a', 'b'] })
      const created = await send(h, '/things', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: payload,
      })
      expect(created.status).toBe(201)
      const head = await send(h, '/api/2/users/7', { method: 'HEAD' })
      expect(head.status).toBe(200)
      expect(head.body.length).toBe(0)
      await tracesReceived(h, 2)
      expect(traceNamed(h, 'POST /things').metrics).toMatchObject({
        response_code: 201,
        request_payload_size: Buffer.byteLength(payload),
        response_payload_size: created.body.length,
      })
      // HEAD carries the GET's Content-Length but no body: nothing was sent.
      expect(head.headers.get('content-length')).toBe(String('{"id":"7"}'.length))
      expect(traceNamed(h, 'HEAD /api/:version/users/:id').metrics).toMatchObject({
        response_code: 200,
        response_payload_size: 0,
      })
      expect(h.server.violations).toEqual([])
    })
  },
)
