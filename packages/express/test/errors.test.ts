import type { NextFunction, Request, Response } from 'express'
import { describe, expect, it, vi } from 'vitest'
import { type TelemeterExpressOptions, telemeterErrorHandler, telemeterMiddleware } from '../src/index.js'
import {
  EXPRESS_VERSIONS,
  type ExpressModule,
  listen,
  onCleanup,
  request,
  type Setup,
  setup,
  traces,
  WAIT_MS,
} from './helpers.js'

function httpError(status: number, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { status, ...extra })
}

function errorApp(express: ExpressModule, t: Setup | undefined, options?: TelemeterExpressOptions<Request>) {
  const app = express()
  // 'test' keeps Express's default error handler from logging every error.
  app.set('env', 'test')
  if (t) app.use(telemeterMiddleware(t.telemeter, options))
  app.get('/sync/:id', () => {
    throw new Error('sync boom')
  })
  app.get('/next/:id', (_req: Request, _res: Response, next: NextFunction) => {
    setImmediate(() => next(new TypeError('callback boom')))
  })
  app.get('/string', (_req: Request, _res: Response, next: NextFunction) => next('plain string failure'))
  app.get('/not-found/:id', (_req: Request, _res: Response, next: NextFunction) =>
    next(httpError(404, 'no such order')),
  )
  app.get('/invalid', (_req: Request, _res: Response, next: NextFunction) =>
    next(Object.assign(new Error('bad input'), { statusCode: 422 })),
  )
  app.get('/exposed', (_req: Request, _res: Response, next: NextFunction) =>
    next(Object.assign(new Error('for the client'), { expose: true })),
  )
  app.get('/unavailable', (_req: Request, _res: Response, next: NextFunction) =>
    next(httpError(503, 'database down')),
  )
  app.get('/maintenance', (_req: Request, res: Response) => {
    res.status(503).send('back soon')
  })
  app.get('/ignored-failure', () => {
    throw new Error('expected failure')
  })
  return app
}

describe.each(EXPRESS_VERSIONS)('errors on $name', ({ express, major }) => {
  it('reports a thrown error as one crash with method, route and status, and the app answers as before', async () => {
    // Express's default handler logs errors outside env 'test': keep the test output clean.
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
    onCleanup(() => logged.mockRestore())
    const t = await setup()
    const app = errorApp(express, t)
    app.set('env', 'production')
    app.use(telemeterErrorHandler(t.telemeter))
    const base = await listen(app)
    // The same app without Telemeter: its answer must not change.
    const plain = errorApp(express, undefined)
    plain.set('env', 'production')
    const plainBase = await listen(plain)

    const answer = await request(base, '/sync/17?token=abc')
    const without = await request(plainBase, '/sync/17?token=abc')
    expect(answer.status).toBe(500)
    expect(answer.status).toBe(without.status)
    expect(answer.body).toBe(without.body)

    const [trace] = await traces(t, 1)
    expect(trace).toMatchObject({ name: 'GET /sync/:id', metrics: { response_code: 500 } })
    const crashes = t.server.crashes()
    expect(crashes).toHaveLength(1)
    const [crash] = crashes
    expect(crash).toMatchObject({
      device_id: 'api-server-1',
      name: 'Error: sync boom',
      nonfatal: true,
      app_version: '3.1.4',
      custom: { method: 'GET', route: '/sync/:id', status: 500 },
    })
    expect(crash?.error).toMatch(/^Error: sync boom\n\s+at /)
    expect(JSON.stringify(crash)).not.toContain('token')
    expect(t.server.violations).toEqual([])
  })

  it('reports next(err) from a callback, and non-Error values', async () => {
    const t = await setup()
    const app = errorApp(express, t)
    app.use(telemeterErrorHandler(t.telemeter))
    const base = await listen(app)
    expect((await request(base, '/next/5')).status).toBe(500)
    expect((await request(base, '/string')).status).toBe(500)
    await traces(t, 2)
    const crashes = t.server.crashes()
    expect(crashes.map((crash) => [crash.name, crash.custom])).toEqual([
      ['TypeError: callback boom', { method: 'GET', route: '/next/:id', status: 500 }],
      ['Non-Error thrown (string): plain string failure', { method: 'GET', route: '/string', status: 500 }],
    ])
  })

  it('passes the error on to the app’s own error handler, which answers', async () => {
    const t = await setup()
    const app = errorApp(express, t)
    app.use(telemeterErrorHandler(t.telemeter))
    app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
      res.status(502).json({ handled: error.message })
    })
    const base = await listen(app)
    const answer = await request(base, '/sync/1')
    expect(answer.status).toBe(502)
    expect(JSON.parse(answer.body)).toEqual({ handled: 'sync boom' })
    const [trace] = await traces(t, 1)
    expect(trace?.metrics.response_code).toBe(502)
    expect(t.server.crashes().map((crash) => crash.custom)).toEqual([
      { method: 'GET', route: '/sync/:id', status: 502 },
    ])
  })

  it('does not report 4xx errors or errors meant for the client', async () => {
    const t = await setup()
    const app = errorApp(express, t)
    app.use(telemeterErrorHandler(t.telemeter))
    const base = await listen(app)
    expect((await request(base, '/not-found/9')).status).toBe(404)
    expect((await request(base, '/invalid')).status).toBe(422)
    expect((await request(base, '/exposed')).status).toBe(500)
    expect((await request(base, '/unavailable')).status).toBe(503)
    const received = await traces(t, 4)
    expect(received.map((trace) => [trace.name, trace.metrics.response_code])).toEqual([
      ['GET /not-found/:id', 404],
      ['GET /invalid', 422],
      ['GET /exposed', 500],
      ['GET /unavailable', 503],
    ])
    expect(t.server.crashes().map((crash) => [crash.name, crash.custom])).toEqual([
      ['Error: database down', { method: 'GET', route: '/unavailable', status: 503 }],
    ])
  })

  it('reports a 5xx answered without an error, named after the route and status', async () => {
    const t = await setup()
    const app = errorApp(express, t)
    app.use(telemeterErrorHandler(t.telemeter))
    const base = await listen(app)
    const answer = await request(base, '/maintenance')
    expect(answer).toMatchObject({ status: 503, body: 'back soon' })
    await traces(t, 1)
    const [crash] = t.server.crashes()
    expect(t.server.crashes()).toHaveLength(1)
    expect(crash).toMatchObject({
      name: 'HTTP 503: GET /maintenance responded 503',
      custom: { method: 'GET', route: '/maintenance', status: 503 },
    })
  })

  it('lets shouldCaptureError decide, both ways, and never turns a skipped error into a 5xx crash', async () => {
    const t = await setup()
    const seen: string[] = []
    const app = errorApp(express, t, {
      shouldCaptureError: (error, req) => {
        seen.push(`${req.method} ${req.path}`)
        const status = (error as { status?: number }).status
        return status === 404 || (error as Error).message !== 'expected failure'
      },
    })
    app.use(telemeterErrorHandler(t.telemeter))
    const base = await listen(app)
    expect((await request(base, '/not-found/3')).status).toBe(404)
    expect((await request(base, '/ignored-failure')).status).toBe(500)
    await traces(t, 2)
    expect(seen).toEqual(['GET /not-found/3', 'GET /ignored-failure'])
    expect(t.server.crashes().map((crash) => [crash.name, crash.custom])).toEqual([
      ['Error: no such order', { method: 'GET', route: '/not-found/:id', status: 404 }],
    ])
  })

  it('never reports two crashes for one error, even with the error handler installed twice', async () => {
    const t = await setup()
    const app = errorApp(express, t)
    app.use(telemeterErrorHandler(t.telemeter))
    app.use(telemeterErrorHandler(t.telemeter))
    app.use((error: Error, _req: Request, _res: Response, next: NextFunction) => {
      next(new Error(`wrapped: ${error.message}`))
    })
    const base = await listen(app)
    expect((await request(base, '/sync/2')).status).toBe(500)
    await traces(t, 1)
    expect(t.server.crashes().map((crash) => crash.name)).toEqual(['Error: sync boom'])
  })

  it('reports errors thrown by async handlers', async () => {
    const t = await setup()
    const app = express()
    app.use(telemeterMiddleware(t.telemeter))
    if (major === 5) {
      app.get('/async/:id', async () => {
        await new Promise((resolve) => setImmediate(resolve))
        throw new RangeError('async boom')
      })
    } else {
      // Express 4 ignores returned promises: the documented pattern is next(error).
      app.get('/async/:id', async (_req: Request, _res: Response, next: NextFunction) => {
        try {
          await new Promise((resolve) => setImmediate(resolve))
          throw new RangeError('async boom')
        } catch (error) {
          next(error)
        }
      })
    }
    app.use(telemeterErrorHandler(t.telemeter))
    const base = await listen(app)
    expect((await request(base, '/async/4')).status).toBe(500)
    await traces(t, 1)
    expect(t.server.crashes().map((crash) => [crash.name, crash.custom])).toEqual([
      ['RangeError: async boom', { method: 'GET', route: '/async/:id', status: 500 }],
    ])
  })

  it('still reports a 5xx crash when the error handler is missing', async () => {
    const t = await setup()
    const base = await listen(errorApp(express, t))
    expect((await request(base, '/sync/8')).status).toBe(500)
    await traces(t, 1)
    expect(t.server.crashes().map((crash) => [crash.name, crash.custom])).toEqual([
      ['HTTP 500: GET /sync/:id responded 500', { method: 'GET', route: '/sync/:id', status: 500 }],
    ])
  })
})

describe('errors after the response on Express 5', () => {
  it('reports an async error thrown after the response was sent, once', async () => {
    const [, { express }] = EXPRESS_VERSIONS
    const t = await setup()
    const app = express()
    app.use(telemeterMiddleware(t.telemeter))
    app.get('/after-send', async (_req: Request, res: Response) => {
      res.json({ ok: true })
      await new Promise((resolve) => setImmediate(resolve))
      throw new Error('after the answer')
    })
    app.use(telemeterErrorHandler(t.telemeter))
    const base = await listen(app)
    expect((await request(base, '/after-send')).status).toBe(200)
    await traces(t, 1)
    await t.server.waitFor((server) => server.crashes().length === 1, WAIT_MS)
    await t.telemeter.flush()
    expect(t.server.crashes().map((crash) => [crash.name, crash.custom])).toEqual([
      ['Error: after the answer', { method: 'GET', route: '/after-send', status: 200 }],
    ])
  })
})
