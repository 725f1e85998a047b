import type { Request, Response } from 'express'
import { describe, expect, it, vi } from 'vitest'
import { telemeterErrorHandler, telemeterMiddleware } from '../src/index.js'
import { EXPRESS_VERSIONS, listen, onCleanup, request, setup, traces, WAIT_MS } from './helpers.js'

const ok = (_req: Request, res: Response) => {
  res.send('ok')
}

describe.each(EXPRESS_VERSIONS)('debug self-check on $name', ({ express }) => {
  it('says nothing when the middleware and the error handler are where they belong', async () => {
    const t = await setup()
    const app = express()
    app.use(telemeterMiddleware(t.telemeter))
    const api = express.Router()
    api.get('/items/:id', ok)
    app.use('/api', api)
    app.use(telemeterErrorHandler(t.telemeter))
    const base = await listen(app)
    await request(base, '/api/items/1')
    await traces(t, 1)
    expect(t.logger.warnings()).toEqual([])
  })

  it('warns once when the error handler is missing', async () => {
    const t = await setup()
    const app = express()
    app.use(telemeterMiddleware(t.telemeter))
    app.get('/items/:id', ok)
    const base = await listen(app)
    await request(base, '/items/1')
    await request(base, '/items/2')
    await traces(t, 2)
    expect(t.logger.warnings()).toEqual([
      '[telemeter] telemeterErrorHandler is not installed: errors are reported only as 5xx crashes without their stack. Add app.use(telemeterErrorHandler(telemeter)) after all routes.',
    ])
  })

  it('warns when the error handler comes before routes, and when the middleware comes after some', async () => {
    const t = await setup()
    const app = express()
    app.get('/early', ok)
    app.use(telemeterMiddleware(t.telemeter))
    app.use(telemeterErrorHandler(t.telemeter))
    app.get('/items/:id', ok)
    const base = await listen(app)
    await request(base, '/items/1')
    await request(base, '/early')
    await traces(t, 1)
    const warnings = t.logger.warnings()
    expect(warnings).toHaveLength(2)
    expect(warnings[0]).toContain('telemeterErrorHandler is placed before routes')
    expect(warnings[1]).toContain('telemeterMiddleware is placed after some routes')
    expect(t.server.traces().map((trace) => trace.name)).toEqual(['GET /items/:id'])
  })

  it('warns when the middleware is installed twice, and records each request once', async () => {
    const t = await setup()
    const app = express()
    const middleware = telemeterMiddleware(t.telemeter)
    app.use(middleware)
    const api = express.Router()
    api.use(telemeterMiddleware(t.telemeter))
    api.get('/items/:id', ok)
    app.use('/api', api)
    app.use(telemeterErrorHandler(t.telemeter))
    const base = await listen(app)
    await request(base, '/api/items/1')
    await request(base, '/api/items/2')
    await traces(t, 2)
    expect(t.logger.warnings()).toEqual([
      '[telemeter] telemeterMiddleware is installed more than once on the path of a request; only the first one records it. Install it once, on the application, before the routes.',
    ])
    expect(t.server.traces().map((trace) => trace.name)).toEqual(['GET /api/items/:id', 'GET /api/items/:id'])
  })

  it('reports the error of a request no middleware recorded, with a warning', async () => {
    const t = await setup()
    const app = express()
    app.set('env', 'test')
    app.get('/orphan/:id', () => {
      throw new Error('no middleware here')
    })
    app.use(telemeterErrorHandler(t.telemeter))
    const base = await listen(app)
    expect((await request(base, '/orphan/1')).status).toBe(500)
    await t.telemeter.flush()
    await t.server.waitFor((server) => server.crashes().length === 1, WAIT_MS)
    expect(t.server.crashes().map((crash) => [crash.name, crash.custom])).toEqual([
      ['Error: no middleware here', { method: 'GET', route: '/orphan/:id', status: 500 }],
    ])
    expect(t.server.traces()).toEqual([])
    expect(t.logger.warnings()).toEqual([
      '[telemeter] telemeterErrorHandler saw a request telemeterMiddleware did not record: only its error is reported. Add app.use(telemeterMiddleware(telemeter)) before the routes.',
    ])
  })

  it('stays silent without debug', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    onCleanup(() => warn.mockRestore())
    const t = await setup({ debug: false })
    const app = express()
    app.use(telemeterMiddleware(t.telemeter))
    app.use(telemeterMiddleware(t.telemeter))
    app.get('/items/:id', ok)
    const base = await listen(app)
    await request(base, '/items/1')
    await traces(t, 1)
    expect(warn).not.toHaveBeenCalled()
  })
})
