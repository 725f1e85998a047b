/**
 * HTTP scenarios, run against a real Nest application on each platform and
 * checked against what the Countly stand-in received. Every response is
 * compared with the same application without Telemeter: status, body and
 * content type must be identical.
 */
import { startTestServer, type TestServer } from '@telemeter/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFixture, type FilterSetup, type RunningApp } from './fixture-app.js'
import { type NestModules, PLATFORMS, type Platform } from './nest-modules.js'

const APP_KEY = 'NEST_APP'

interface Answer {
  status: number
  body: string
  type: string | null
}

async function call(app: RunningApp, path: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(app.url + path, init)
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') }
}

function setup(nest: NestModules, platform: Platform, filters: FilterSetup) {
  const fixture = createFixture(nest)
  const context = {} as { server: TestServer; instrumented: RunningApp; bare: RunningApp }
  beforeAll(async () => {
    context.server = await startTestServer({ appKey: APP_KEY })
    context.instrumented = await fixture.start({
      platform,
      filters,
      telemeter: { url: context.server.url, appKey: APP_KEY, storage: 'memory', flushIntervalMs: 20 },
    })
    context.bare = await fixture.start({ platform, filters })
  })
  afterAll(async () => {
    expect(context.server.violations).toEqual([])
    await context.instrumented?.close()
    await context.bare?.close()
    await context.server?.close()
  })
  /** Send to both applications; the answers must be the same. */
  async function send(path: string, device: string | undefined, init: RequestInit = {}): Promise<Answer> {
    const headers = {
      ...(device ? { 'x-device-id': device } : {}),
      ...(init.headers as Record<string, string>),
    }
    const answer = await call(context.instrumented, path, { ...init, headers })
    expect(answer).toEqual(await call(context.bare, path, { ...init, headers }))
    return answer
  }
  async function trace(device: string, name: string) {
    await context.server.waitFor((s) => s.traces({ deviceId: device, name }).length > 0)
    const traces = context.server.traces({ deviceId: device, name })
    expect(traces).toHaveLength(1)
    return traces[0]!
  }
  return { context, send, trace }
}

export function describeHttp(nest: NestModules): void {
  describe.each(PLATFORMS)(`${nest.label} on %s`, (platform) => {
    const { context, send, trace } = setup(nest, platform, 'none')
    const device = (name: string) => `${platform}-${name}`

    it('records one network trace named after the route template, with prefix and URI version', async () => {
      const answer = await send('/api/v1/users/42?expand=1', device('route'))
      expect(answer.status).toBe(200)
      expect(JSON.parse(answer.body)).toEqual({ id: 42, name: 'user 42' })
      const network = await trace(device('route'), 'GET /api/v1/users/:id')
      expect(network.type).toBe('network')
      expect(network.metrics).toMatchObject({
        response_code: 200,
        request_payload_size: 0,
        response_payload_size: Buffer.byteLength(answer.body),
      })
      expect(network.etz).toBeGreaterThanOrEqual(network.stz)
      // @Traced() inside the request reports for the request's device.
      const custom = await trace(device('route'), 'load_user')
      expect(custom.type).toBe('device')
      expect(context.server.traces().some((t) => t.name.includes('42') || t.name.includes('expand'))).toBe(
        false,
      )
      expect(context.server.violations).toEqual([])
    })

    it('puts unmatched requests into one "unknown route" bucket, not as crashes', async () => {
      expect((await send('/api/v1/nothing/here/17', device('404'))).status).toBe(404)
      expect((await send('/elsewhere', device('404'))).status).toBe(404)
      expect((await send('/api/v1/users/1', device('404'), { method: 'DELETE' })).status).toBe(404)
      await context.server.waitFor((s) => s.traces({ deviceId: device('404') }).length === 3)
      const names = context.server.traces({ deviceId: device('404') }).map((t) => t.name)
      expect(names.sort()).toEqual(['DELETE unknown route', 'GET unknown route', 'GET unknown route'])
      expect(context.server.traces({ deviceId: device('404') })[0]?.metrics.response_code).toBe(404)
      expect(context.server.crashes(device('404'))).toEqual([])
    })

    // The delays are far above timer granularity: what is checked is that the trace includes them.
    it('times the guards: a rejection is a 403 trace, not a crash', async () => {
      const answer = await send('/api/v1/users/admin', device('guard'), {
        headers: { 'x-guard-delay': '60' },
      })
      expect(answer.status).toBe(403)
      const network = await trace(device('guard'), 'GET /api/v1/users/admin')
      expect(network.metrics.response_code).toBe(403)
      expect(network.metrics.response_time).toBeGreaterThanOrEqual(50)
      expect(context.server.crashes(device('guard'))).toEqual([])
      expect(context.server.violations).toEqual([])
    })

    it('times Nest middleware', async () => {
      await send('/api/v1/users/5', device('middleware'), { headers: { 'x-middleware-delay': '60' } })
      const network = await trace(device('middleware'), 'GET /api/v1/users/:id')
      expect(network.metrics.response_time).toBeGreaterThanOrEqual(50)
    })

    it('reports pipe failures as 400 traces, not crashes', async () => {
      expect((await send('/api/v1/users/abc', device('pipe'))).status).toBe(400)
      const invalid = JSON.stringify({ name: '' })
      const post = { method: 'POST', body: invalid, headers: { 'content-type': 'application/json' } }
      expect((await send('/api/v1/users', device('pipe'), post)).status).toBe(400)
      expect((await trace(device('pipe'), 'GET /api/v1/users/:id')).metrics.response_code).toBe(400)
      const failed = await trace(device('pipe'), 'POST /api/v1/users')
      expect(failed.metrics).toMatchObject({
        response_code: 400,
        request_payload_size: Buffer.byteLength(invalid),
      })
      expect(context.server.crashes(device('pipe'))).toEqual([])
    })

    it('reports a handler error as one crash with method, route and status, answered by Nest as before', async () => {
      const answer = await send('/api/v1/users/1/boom', device('boom'))
      expect(answer.status).toBe(500)
      expect(JSON.parse(answer.body)).toEqual({ statusCode: 500, message: 'Internal server error' })
      expect((await trace(device('boom'), 'GET /api/v1/users/:id/boom')).metrics.response_code).toBe(500)
      await context.server.waitFor((s) => s.crashes(device('boom')).length > 0)
      const crashes = context.server.crashes(device('boom'))
      expect(crashes).toHaveLength(1)
      expect(crashes[0]?.error).toContain('Error: handler exploded')
      expect(crashes[0]?.nonfatal).toBe(true)
      expect(crashes[0]?.custom).toEqual({ method: 'GET', route: '/api/v1/users/:id/boom', status: 500 })
      expect(context.server.violations).toEqual([])
    })

    it('sees what a guard throws, with its stack', async () => {
      expect((await send('/api/v1/users/1/guarded', device('guard-boom'))).status).toBe(500)
      await context.server.waitFor((s) => s.crashes(device('guard-boom')).length > 0)
      const [crash, ...more] = context.server.crashes(device('guard-boom'))
      expect(more).toEqual([])
      expect(crash?.error).toContain('TypeError: guard exploded')
      expect(crash?.custom).toEqual({ method: 'GET', route: '/api/v1/users/:id/guarded', status: 500 })
    })

    it('reports what a Nest middleware throws', async () => {
      const answer = await send('/api/v1/users/3', device('mw-boom'), {
        headers: { 'x-middleware-boom': '1' },
      })
      expect(answer.status).toBe(500)
      await context.server.waitFor((s) => s.crashes(device('mw-boom')).length > 0)
      const [crash, ...more] = context.server.crashes(device('mw-boom'))
      expect(more).toEqual([])
      // Express runs route-bound Nest middleware as a route of its own, inside the request's context.
      // Fastify runs them (through middie) before it hands over the routed request: neither the route nor
      // the request's context exist yet, and the crash is the 500 the exception filter answered.
      const route = platform === 'express' ? '/api/v1/users/:id' : 'unknown route'
      expect(crash?.error).toContain(
        platform === 'express' ? 'Error: middleware exploded' : `GET ${route} responded 500`,
      )
      expect(crash?.custom).toEqual({ method: 'GET', route, status: 500 })
      expect((await trace(device('mw-boom'), `GET ${route}`)).metrics.response_code).toBe(500)
    })

    it("keeps a route filter's answer and does not count HttpExceptions below 500 as crashes", async () => {
      const conflict = await send('/api/v1/users/9/conflict', device('filter'))
      expect(conflict.status).toBe(409)
      expect(JSON.parse(conflict.body)).toEqual({ code: 'CONFLICT', detail: 'name taken' })
      expect((await send('/api/v1/users/9/teapot', device('filter'))).status).toBe(418)
      expect((await trace(device('filter'), 'GET /api/v1/users/:id/conflict')).metrics.response_code).toBe(
        409,
      )
      expect((await trace(device('filter'), 'GET /api/v1/users/:id/teapot')).metrics.response_code).toBe(418)
      expect(context.server.crashes(device('filter'))).toEqual([])
    })

    it('counts the bytes of streamed and posted bodies', async () => {
      const download = await send('/api/v1/users/export', device('bytes'))
      expect(download.body).toHaveLength(3500)
      expect((await trace(device('bytes'), 'GET /api/v1/users/export')).metrics.response_payload_size).toBe(
        3500,
      )
      const body = JSON.stringify({ name: '  Ada Lovelace ' })
      const created = await send('/api/v1/users', device('bytes'), {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      })
      expect(created.status).toBe(201)
      expect((await trace(device('bytes'), 'POST /api/v1/users')).metrics).toMatchObject({
        response_code: 201,
        request_payload_size: Buffer.byteLength(body),
        response_payload_size: Buffer.byteLength(created.body),
      })
    })

    it('maps the device after authentication and gives handlers the request scope', async () => {
      const answer = await call(context.instrumented, '/api/v1/users/1/whoami', {
        headers: { authorization: 'Bearer user-7' },
      })
      expect(JSON.parse(answer.body)).toEqual({ user: 'user-7', scope: 'user-7' })
      // A body is parsed between the request's start and its handler (on Fastify outside the request's context).
      const posted = await call(context.instrumented, '/api/v1/users/1/whoami', {
        method: 'POST',
        body: JSON.stringify({ note: 'x'.repeat(90_000) }),
        headers: { authorization: 'Bearer user-7', 'content-type': 'application/json' },
      })
      expect(JSON.parse(posted.body)).toEqual({ user: 'user-7', scope: 'user-7' })
      expect((await trace('user-7', 'GET /api/v1/users/:id/whoami')).metrics.response_code).toBe(200)
      expect((await trace('user-7', 'POST /api/v1/users/:id/whoami')).metrics.response_code).toBe(201)
      expect(context.server.user('user-7')?.sc).toBe(1)
    })

    it('leaves health checks out', async () => {
      expect((await send('/health', device('health'))).status).toBe(200)
      await send('/api/v1/users/1', device('health'))
      await trace(device('health'), 'GET /api/v1/users/:id')
      expect(context.server.traces({ deviceId: device('health') }).map((t) => t.name)).not.toContain(
        'GET /health',
      )
    })
  })

  describe.each(
    PLATFORMS.flatMap((platform) => [
      [platform, 'global'],
      [platform, 'global-captured'],
      [platform, 'provider'],
    ]) as [Platform, FilterSetup][],
  )(`${nest.label} on %s with a catch-all filter (%s)`, (platform, filters) => {
    const { context, send, trace } = setup(nest, platform, filters)
    const device = (name: string) => `${platform}-${filters}-${name}`
    // A filter provided in the root module is consulted after Telemeter's observer and one with
    // @CaptureExceptions() hands its exceptions over; a plain app.useGlobalFilters() filter is consulted
    // before the observer: then the 5xx status it answers is what Telemeter reports.
    const seen = (error: string, route: string) =>
      filters === 'global' ? `GET ${route} responded 503` : error

    it("keeps the filter's answer to a handler error and reports one crash", async () => {
      const answer = await send('/api/v1/users/1/boom', device('boom'))
      expect(answer.status).toBe(503)
      expect(JSON.parse(answer.body)).toEqual({ handled: true, status: 503, path: '/api/v1/users/1/boom' })
      await context.server.waitFor((s) => s.crashes(device('boom')).length > 0)
      const crashes = context.server.crashes(device('boom'))
      expect(crashes).toHaveLength(1)
      expect(crashes[0]?.error).toContain(seen('Error: handler exploded', '/api/v1/users/:id/boom'))
      expect(crashes[0]?.custom).toEqual({ method: 'GET', route: '/api/v1/users/:id/boom', status: 503 })
    })

    it("keeps the filter's answer to a guard error and reports one crash", async () => {
      expect((await send('/api/v1/users/1/guarded', device('guard'))).status).toBe(503)
      await context.server.waitFor((s) => s.crashes(device('guard')).length > 0)
      const crashes = context.server.crashes(device('guard'))
      expect(crashes).toHaveLength(1)
      expect(crashes[0]?.error).toContain(seen('TypeError: guard exploded', '/api/v1/users/:id/guarded'))
      expect(crashes[0]?.custom).toEqual({ method: 'GET', route: '/api/v1/users/:id/guarded', status: 503 })
    })

    it('keeps the answers to rejections, and they are not crashes', async () => {
      const forbidden = await send('/api/v1/users/admin', device('reject'))
      expect(forbidden.status).toBe(403)
      expect(JSON.parse(forbidden.body)).toEqual({ handled: true, status: 403, path: '/api/v1/users/admin' })
      expect((await send('/api/v1/users/x', device('reject'))).status).toBe(400)
      expect((await send('/api/v1/users/2/conflict', device('reject'))).status).toBe(409)
      expect((await trace(device('reject'), 'GET /api/v1/users/admin')).metrics.response_code).toBe(403)
      await trace(device('reject'), 'GET /api/v1/users/:id/conflict')
      expect(context.server.crashes(device('reject'))).toEqual([])
      expect(context.server.violations).toEqual([])
    })
  })
}
