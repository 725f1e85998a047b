import type { NextFunction, Request, Response } from 'express'
import { describe, expect, it } from 'vitest'
import { type TelemeterExpressOptions, telemeterErrorHandler, telemeterMiddleware } from '../src/index.js'
import {
  EXPRESS_VERSIONS,
  type ExpressModule,
  listen,
  request,
  type Setup,
  setup,
  sleep,
  traces,
} from './helpers.js'

interface User {
  id?: unknown
  _id?: unknown
}

/** A Mongo-ObjectId-like value: an object whose toString is the id. */
class ObjectIdLike {
  constructor(private readonly hex: string) {}
  toString(): string {
    return this.hex
  }
}

function deviceApp(express: ExpressModule, t: Setup, options?: TelemeterExpressOptions<Request>) {
  const app = express()
  app.use(telemeterMiddleware(t.telemeter, options))
  // Authentication runs after Telemeter: the device is still taken from req.user.
  app.use((req: Request, _res: Response, next: NextFunction) => {
    const header = req.get('x-test-user')
    if (header === 'object-id')
      (req as Request & { user?: User }).user = { _id: new ObjectIdLike('65f0c0ffee') }
    else if (header === 'numeric') (req as Request & { user?: User }).user = { id: 42 }
    else if (header) (req as Request & { user?: User }).user = { id: header }
    next()
  })
  app.get('/me', (req: Request, res: Response) => {
    res.json({ device: req.telemeter.deviceId })
  })
  app.use(telemeterErrorHandler(t.telemeter))
  return app
}

describe.each(EXPRESS_VERSIONS)('devices and sessions on $name', ({ express }) => {
  it('maps each request to a device: deviceId(req), then req.user.id / _id, then x-device-id, else the server', async () => {
    const t = await setup()
    const base = await listen(
      deviceApp(express, t, { deviceId: (req) => req.get('x-customer') ?? undefined }),
    )
    const cases: [Record<string, string>, string][] = [
      [{ 'x-customer': 'cust-7', 'x-test-user': 'user-1', 'x-device-id': 'dev-1' }, 'cust-7'],
      [{ 'x-test-user': 'user-1', 'x-device-id': 'dev-1' }, 'user-1'],
      [{ 'x-test-user': 'object-id' }, '65f0c0ffee'],
      [{ 'x-test-user': 'numeric' }, '42'],
      [{ 'x-device-id': 'dev-1' }, 'dev-1'],
      [{}, 'api-server-1'],
    ]
    for (const [headers, device] of cases) {
      const answer = await request(base, '/me', { headers })
      expect(JSON.parse(answer.body)).toEqual({ device })
    }
    const received = await traces(t, cases.length)
    expect(received.map((trace) => trace.device_id)).toEqual(cases.map(([, device]) => device))
    expect(t.server.violations).toEqual([])
  })

  it('sanitises device ids: control characters stripped, length capped', async () => {
    const t = await setup()
    const long = `u${'x'.repeat(400)}`
    const base = await listen(
      deviceApp(express, t, {
        deviceId: (req) => (req.get('x-raw') === 'long' ? long : 'ab\u0000c\u0007d\n'),
      }),
    )
    await request(base, '/me', { headers: { 'x-raw': 'control' } })
    await request(base, '/me', { headers: { 'x-raw': 'long' } })
    const received = await traces(t, 2)
    expect(received.map((trace) => trace.device_id)).toEqual(['abcd', long.slice(0, 256)])
  })

  it('falls back when deviceId(req) throws, with one warning', async () => {
    const t = await setup()
    const base = await listen(
      deviceApp(express, t, {
        deviceId: () => {
          throw new Error('hook broke')
        },
      }),
    )
    await request(base, '/me', { headers: { 'x-device-id': 'dev-9' } })
    await request(base, '/me', { headers: { 'x-device-id': 'dev-9' } })
    const received = await traces(t, 2)
    expect(received.map((trace) => trace.device_id)).toEqual(['dev-9', 'dev-9'])
    expect(t.logger.warnings().filter((line) => line.includes('hook broke'))).toHaveLength(1)
  })

  it('begins a session on a device’s first request, extends it on activity and ends it after sessionIdleMs', async () => {
    const t = await setup({ sessionUpdateIntervalMs: 1_000 })
    const base = await listen(deviceApp(express, t, { sessionIdleMs: 2_000 }))
    await request(base, '/me', { headers: { 'x-device-id': 'dev-s' } })
    await request(base, '/me', { headers: { 'x-device-id': 'dev-s' } })
    await sleep(1_100)
    await request(base, '/me', { headers: { 'x-device-id': 'dev-s' } })
    await t.telemeter.flush()
    await t.server.waitFor(
      (server) => server.items.some((item) => item.params.end_session !== undefined),
      8_000,
    )
    const sessionItems = t.server.items
      .filter((item) => item.device_id === 'dev-s' && item.params.apm === undefined)
      .map((item) => {
        // Parameters arrive as JSON numbers in /i/bulk and as strings in /i query strings.
        const number = (value: unknown) => (value === undefined ? undefined : Number(value))
        return {
          begin_session: number(item.params.begin_session),
          session_duration: number(item.params.session_duration),
          end_session: number(item.params.end_session),
        }
      })
    expect(sessionItems[0]).toEqual({ begin_session: 1, session_duration: undefined, end_session: undefined })
    expect(sessionItems[1]).toEqual({ begin_session: undefined, session_duration: 1, end_session: undefined })
    expect(sessionItems.at(-1)?.end_session).toBe(1)
    expect(sessionItems).toHaveLength(3)
    const user = t.server.user('dev-s')
    expect(user).toMatchObject({ sc: 1, hos: false })
    expect(t.server.traces({ deviceId: 'dev-s' })).toHaveLength(3)
    expect(t.server.violations).toEqual([])
  })

  it('records no sessions with sessions: false', async () => {
    const t = await setup()
    const base = await listen(deviceApp(express, t, { sessions: false }))
    await request(base, '/me', { headers: { 'x-device-id': 'dev-n' } })
    await traces(t, 1)
    expect(t.server.items.filter((item) => item.params.begin_session !== undefined)).toEqual([])
  })
})
