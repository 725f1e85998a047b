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
  traces,
} from './helpers.js'

function optionsApp(express: ExpressModule, t: Setup, options?: TelemeterExpressOptions<Request>) {
  const app = express()
  app.set('env', 'test')
  app.use(telemeterMiddleware(t.telemeter, options))
  const ok = (_req: Request, res: Response) => {
    res.send('ok')
  }
  for (const path of ['/health', '/healthz', '/readyz', '/livez', '/metrics', '/favicon.ico', '/status'])
    app.get(path, ok)
  app.get('/internal/jobs/:id', ok)
  app.get('/debug/vars', ok)
  app.get('/exact', ok)
  app.get('/exact/not', ok)
  app.get('/users/:id', ok)
  app.options('/users/:id', (_req: Request, res: Response) => {
    res.sendStatus(204)
  })
  app.get('/fail/:id', () => {
    throw new Error('always traced')
  })
  app.get('/gone/:id', (_req: Request, _res: Response, next: NextFunction) =>
    next(Object.assign(new Error('gone'), { status: 410 })),
  )
  app.get('/overloaded', (_req: Request, res: Response) => {
    res.sendStatus(503)
  })
  app.use(telemeterErrorHandler(t.telemeter))
  return app
}

async function names(t: Setup, count: number): Promise<string[]> {
  return (await traces(t, count)).map((trace) => `${trace.name} ${trace.metrics.response_code}`)
}

describe.each(EXPRESS_VERSIONS)('ignore rules and sampling on $name', ({ express }) => {
  it('ignores health, readiness, metrics, favicon and OPTIONS by default', async () => {
    const t = await setup()
    const base = await listen(optionsApp(express, t))
    for (const path of ['/health', '/healthz', '/readyz', '/livez', '/metrics', '/favicon.ico', '/status'])
      expect((await request(base, path)).status).toBe(200)
    expect((await request(base, '/users/1', { method: 'OPTIONS' })).status).toBe(204)
    await request(base, '/users/1')
    expect(await names(t, 1)).toEqual(['GET /users/:id 200'])
    expect(t.server.traces()).toHaveLength(1)
  })

  it('applies string, prefix, RegExp and predicate rules on top of the defaults, or alone', async () => {
    const t = await setup()
    const base = await listen(
      optionsApp(express, t, {
        ignore: ['/exact', '/internal/*', /^\/debug\//, (req) => req.get('x-synthetic') === '1'],
      }),
    )
    for (const path of ['/exact', '/internal/jobs/1', '/debug/vars', '/health']) await request(base, path)
    await request(base, '/users/1', { headers: { 'x-synthetic': '1' } })
    await request(base, '/exact/not')
    await request(base, '/users/2?probe=1')
    expect(await names(t, 2)).toEqual(['GET /exact/not 200', 'GET /users/:id 200'])
    expect(t.server.traces()).toHaveLength(2)

    const u = await setup()
    const withoutDefaults = await listen(optionsApp(express, u, { ignoreDefaults: false }))
    await request(withoutDefaults, '/health')
    await request(withoutDefaults, '/users/3', { method: 'OPTIONS' })
    expect(await names(u, 2)).toEqual(['GET /health 200', 'OPTIONS /users/:id 204'])
  })

  it('with sampleRate 0 traces only errors and 5xx, which are always kept', async () => {
    const t = await setup()
    const base = await listen(optionsApp(express, t, { sampleRate: 0 }))
    for (let i = 0; i < 5; i++) await request(base, `/users/${i}`)
    await request(base, '/fail/1')
    await request(base, '/gone/2')
    await request(base, '/overloaded')
    expect(await names(t, 3)).toEqual(['GET /fail/:id 500', 'GET /gone/:id 410', 'GET /overloaded 503'])
    expect(t.server.traces()).toHaveLength(3)
    expect(t.server.crashes().map((crash) => crash.name)).toEqual([
      'Error: always traced',
      'HTTP 503: GET /overloaded responded 503',
    ])
  })

  it('lets sampler(req) decide per request, errors still kept', async () => {
    const t = await setup()
    const base = await listen(optionsApp(express, t, { sampler: (req) => req.get('x-trace') === 'yes' }))
    await request(base, '/users/1', { headers: { 'x-trace': 'yes' } })
    await request(base, '/users/2', { headers: { 'x-trace': 'no' } })
    await request(base, '/users/3')
    await request(base, '/fail/4')
    expect(await names(t, 2)).toEqual(['GET /users/:id 200', 'GET /fail/:id 500'])
    expect(t.server.traces()).toHaveLength(2)
  })

  it('warns once about an invalid sampleRate and traces everything', async () => {
    const t = await setup()
    const base = await listen(optionsApp(express, t, { sampleRate: 7 }))
    await request(base, '/users/1')
    await request(base, '/users/2')
    expect(await names(t, 2)).toEqual(['GET /users/:id 200', 'GET /users/:id 200'])
    expect(t.logger.warnings().filter((line) => line.includes('sampleRate'))).toHaveLength(1)
  })
})
