import Router from '@koa/router'
import { currentScope, type DeviceScope } from '@telemeter/core'
import type Koa from 'koa'
import { afterEach, describe, expect, it } from 'vitest'
import { type Harness, KOA_VERSIONS, send, startApp, tracesReceived } from './helpers.js'

/** Authentication after telemeterKoa, as in most apps: `Authorization: Bearer <id>` sets ctx.state.user. */
function routes(app: Koa): void {
  app.use(async (ctx, next) => {
    const token = ctx.get('authorization').replace(/^Bearer /, '')
    if (token === 'mongo') ctx.state.user = { _id: { toString: () => '64b7f0c2e1a9d3f4a5b6c7d8' } }
    else if (token) ctx.state.user = { id: token, accountId: `acct-${token}` }
    await next()
  })
  const router = new Router()
  router.get('/me', (ctx) => {
    ctx.body = { device: ctx.state.telemeter?.deviceId }
  })
  router.get('/work/:n', async (ctx) => {
    const scope = ctx.state.telemeter as DeviceScope
    await new Promise((resolve) => setTimeout(resolve, Number(ctx.params.n) % 7))
    const afterTimer = currentScope() === scope
    await new Promise((resolve) => setImmediate(resolve))
    const afterImmediate = currentScope() === scope
    await Promise.all(
      [1, 2].map(async () => currentScope()?.event('work_done', { segmentation: { n: ctx.params.n } })),
    )
    ctx.body = { device: scope.deviceId, afterTimer, afterImmediate }
  })
  router.get('/health', (ctx) => {
    ctx.body = { scope: ctx.state.telemeter?.deviceId, current: currentScope()?.deviceId ?? 'none' }
  })
  app.use(router.routes())
}

describe.each(KOA_VERSIONS)('%s: devices, sessions and the request scope', (_name, Koa) => {
  let h: Harness
  afterEach(() => h.close())

  it('maps devices: deviceId(ctx), then ctx.state.user id / _id (set after the middleware), then x-device-id, else its own', async () => {
    h = await startApp(Koa, {
      routes,
      options: { deviceId: (ctx) => ctx.get('x-account') || undefined },
    })
    const devices = [
      await send(h, '/me', {
        headers: { 'x-account': 'acct-1', authorization: 'Bearer u-1', 'x-device-id': 'd-1' },
      }),
      await send(h, '/me', { headers: { authorization: 'Bearer u-2', 'x-device-id': 'd-2' } }),
      await send(h, '/me', { headers: { authorization: 'Bearer mongo' } }),
      await send(h, '/me', { headers: { 'x-device-id': 'd-3' } }),
      await send(h, '/me'),
    ].map((reply) => JSON.parse(reply.body.toString()).device)
    const expected = ['acct-1', 'u-2', '64b7f0c2e1a9d3f4a5b6c7d8', 'd-3', 'koa-server']
    expect(devices).toEqual(expected)
    await tracesReceived(h, 5)
    expect(h.server.traces({ name: 'GET /me' }).map((t) => t.device_id)).toEqual(expected)
    expect(h.server.violations).toEqual([])
  })

  it('lets deviceId(ctx) read what authentication set downstream, and sanitises what it returns', async () => {
    h = await startApp(Koa, {
      routes,
      options: {
        deviceId: (ctx) => {
          if (ctx.get('x-broken')) throw new Error('hook bug')
          return ctx.state.user?.accountId ?? ctx.get('x-raw')
        },
      },
    })
    await send(h, '/me', { headers: { authorization: 'Bearer 7' } })
    await send(h, '/me', { headers: { 'x-raw': `  ${'x'.repeat(300)}  ` } })
    await send(h, '/me', { headers: { 'x-broken': '1', 'x-device-id': 'fallback-device' } })
    await tracesReceived(h, 3)
    expect(h.server.traces().map((t) => t.device_id)).toEqual(['acct-7', 'x'.repeat(256), 'fallback-device'])
    expect(h.server.violations).toEqual([])
  })

  it('begins a session per device on its first request and not again while it is active', async () => {
    h = await startApp(Koa, { routes })
    await send(h, '/me', { headers: { 'x-device-id': 'browser-1' } })
    await send(h, '/me', { headers: { 'x-device-id': 'browser-1' } })
    await send(h, '/me', { headers: { 'x-device-id': 'browser-2' } })
    await tracesReceived(h, 3)
    const begins = h.server.items.filter((item) => item.params.begin_session !== undefined)
    expect(begins.map((item) => item.device_id)).toEqual(['browser-1', 'browser-2'])
    expect(h.server.user('browser-1')).toMatchObject({ sc: 1, hos: true })
    // Privacy default: no IP address goes with the session.
    expect(begins.every((item) => item.params.ip_address === undefined)).toBe(true)
    expect(h.server.violations).toEqual([])
  })

  it('ends a device session after sessionIdleMs of silence', async () => {
    h = await startApp(Koa, { routes, options: { sessionIdleMs: 1_000 } })
    await send(h, '/me', { headers: { 'x-device-id': 'tablet-1' } })
    await h.flush()
    await h.server.waitFor(
      (s) => s.items.some((i) => i.device_id === 'tablet-1' && i.params.end_session !== undefined),
      15_000,
    )
    expect(h.server.user('tablet-1')).toMatchObject({ sc: 1, hos: false })
    expect(h.server.violations).toEqual([])
  })

  it('records no device sessions with sessions: false, and sends the IP only with trackIp: true', async () => {
    h = await startApp(Koa, { routes, options: { sessions: false } })
    await send(h, '/me', { headers: { 'x-device-id': 'quiet-1' } })
    await tracesReceived(h, 1)
    expect(h.server.items.filter((i) => i.params.begin_session !== undefined)).toEqual([])
    expect(h.server.user('quiet-1')?.sc ?? 0).toBe(0)
    await h.close()

    h = await startApp(Koa, { routes, options: { trackIp: true } })
    await send(h, '/me', { headers: { 'x-device-id': 'located-1' } })
    await tracesReceived(h, 1)
    const begin = h.server.items.find((i) => i.params.begin_session !== undefined)
    expect(begin).toMatchObject({ device_id: 'located-1', params: { ip_address: '127.0.0.1' } })
    expect(h.server.violations).toEqual([])
  })

  it('gives each concurrent request its own scope as ctx.state.telemeter and currentScope(), across awaits', async () => {
    h = await startApp(Koa, { routes })
    expect(currentScope()).toBeUndefined()
    const replies = await Promise.all(
      Array.from({ length: 24 }, (_, n) =>
        send(h, `/work/${n}`, { headers: { 'x-device-id': `device-${n % 8}` } }),
      ),
    )
    expect(currentScope()).toBeUndefined()
    replies.forEach((reply, n) => {
      expect(JSON.parse(reply.body.toString())).toEqual({
        device: `device-${n % 8}`,
        afterTimer: true,
        afterImmediate: true,
      })
    })
    await tracesReceived(h, 24)
    for (let device = 0; device < 8; device++) {
      const events = h.server.events({ key: 'work_done', deviceId: `device-${device}` })
      const ns = events.flatMap((e) => Array.from({ length: e.count }, () => Number(e.segmentation.n)))
      expect(ns.sort((a, b) => a - b)).toEqual([
        device,
        device,
        device + 8,
        device + 8,
        device + 16,
        device + 16,
      ])
    }
    expect(h.server.events({ key: 'work_done', deviceId: 'koa-server' })).toEqual([])
    expect(h.server.violations).toEqual([])
  })

  it('gives ignored requests the Telemeter itself as ctx.state.telemeter, and no current scope', async () => {
    h = await startApp(Koa, { routes })
    const health = await send(h, '/health', { headers: { 'x-device-id': 'probe' } })
    expect(JSON.parse(health.body.toString())).toEqual({ scope: 'koa-server', current: 'none' })
  })
})
