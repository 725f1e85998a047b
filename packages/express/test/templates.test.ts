import type { NextFunction, Request, Response } from 'express'
import { describe, expect, it } from 'vitest'
import { telemeterErrorHandler, telemeterMiddleware } from '../src/index.js'
import {
  EXPRESS_VERSIONS,
  type ExpressModule,
  everythingSent,
  listen,
  request,
  type Setup,
  setup,
  traces,
} from './helpers.js'

const ok = (_req: Request, res: Response) => {
  res.json({ ok: true })
}

/** A realistic route tree: mount params, nested routers, a sub-application, a router mounted twice. */
function routeTree(express: ExpressModule, major: number, t: Setup) {
  const app = express()
  app.use(telemeterMiddleware(t.telemeter))

  const admin = express.Router({ mergeParams: true })
  admin.get('/users/:id', ok)
  admin.get('/fail/:id', (_req: Request, _res: Response, next: NextFunction) =>
    next(new Error('admin failed')),
  )
  const api = express.Router({ mergeParams: true })
  api.get('/', ok)
  api.use('/admin', admin)
  api.get('/items/:itemId/parts/:partId', ok)
  app.use('/api/:version', api)

  const shop = express.Router()
  shop.get('/catalog', ok)
  app.use('/shop', shop)

  app.get('/users/:id', ok)
  app
    .route('/books/:isbn')
    .get(ok)
    .put((_req: Request, res: Response) => {
      res.status(204).end()
    })
  app.get(/^\/files\/(.+)\.txt$/, ok)
  app.get(['/alpha/:a', '/beta/:b'], ok)

  const shared = express.Router({ mergeParams: true })
  shared.get('/ping/:n', ok)
  app.use('/v1', shared)
  app.use('/v2/:flavor', shared)

  const reports = express()
  reports.get('/daily/:day', ok)
  app.use('/tenants/:tenant', reports)

  if (major === 4) {
    app.get('/archive/:year/:month?', ok)
    app.get('/downloads/*', ok)
  } else {
    app.get('/archive/:year{/:month}', ok)
    app.get('/downloads/*path', ok)
  }
  app.use(telemeterErrorHandler(t.telemeter))
  return { app, api }
}

describe.each(EXPRESS_VERSIONS)('route templates on $name', ({ express, major }) => {
  it('names each trace after the full template, through mounts, nested routers and sub-apps', async () => {
    const t = await setup()
    const { app } = routeTree(express, major, t)
    const base = await listen(app)
    const cases: [string, string, string][] = [
      ['GET', '/api/ver77/admin/users/u4242', 'GET /api/:version/admin/users/:id'],
      ['GET', '/api/ver78', 'GET /api/:version'],
      [
        'GET',
        '/api/ver79/items/it7/parts/pt99?color=crimson',
        'GET /api/:version/items/:itemId/parts/:partId',
      ],
      ['GET', '/shop/catalog', 'GET /shop/catalog'],
      ['GET', '/users/u1234', 'GET /users/:id'],
      ['HEAD', '/users/u1234', 'HEAD /users/:id'],
      ['GET', '/books/isbn978', 'GET /books/:isbn'],
      ['PUT', '/books/isbn978', 'PUT /books/:isbn'],
      ['GET', '/files/report-q3.txt', 'GET /^\\/files\\/(.+)\\.txt$/'],
      ['GET', '/beta/bee77', 'GET /beta/:b'],
      ['GET', '/alpha/ay11', 'GET /alpha/:a'],
      ['GET', '/v1/ping/n555', 'GET /v1/ping/:n'],
      ['GET', '/v2/mint/ping/n666', 'GET /v2/:flavor/ping/:n'],
      ['GET', '/tenants/acme/daily/2024-05-01', 'GET /tenants/:tenant/daily/:day'],
      [
        'GET',
        '/archive/y2023/m07',
        major === 4 ? 'GET /archive/:year/:month?' : 'GET /archive/:year{/:month}',
      ],
      ['GET', '/downloads/dir1/c.zip', major === 4 ? 'GET /downloads/*' : 'GET /downloads/*path'],
      ['GET', '/no/such/page/p123', 'GET unknown route'],
      ['DELETE', '/users/u1234', 'DELETE unknown route'],
    ]
    for (const [method, path] of cases) await request(base, path, { method })
    const received = await traces(t, cases.length)
    expect(received.map((trace) => trace.name).sort()).toEqual(cases.map(([, , name]) => name).sort())
    for (const trace of received) {
      expect(trace.type).toBe('network')
      expect(trace.device_id).toBe('api-server-1')
      expect(trace.app_key).toBe('EXPRESS_TEST_KEY')
    }
    const sent = everythingSent(t.server)
    const concrete = [
      'ver7',
      'u4242',
      'it7',
      'pt99',
      'crimson',
      'isbn978',
      'report-q3',
      'bee77',
      'ay11',
      'n555',
    ]
    concrete.push('mint', 'acme', '2024-05-01', 'y2023', 'm07', 'dir1', 'c.zip', 'p123', 'u1234', 'n666')
    for (const value of concrete) expect(sent).not.toContain(value)
    expect(t.server.violations).toEqual([])
  })

  it('keeps the full template when an error leaves a router mounted with parameters', async () => {
    const t = await setup()
    const { app } = routeTree(express, major, t)
    const base = await listen(app)
    const answer = await request(base, '/api/v9/admin/fail/31')
    expect(answer.status).toBe(500)
    const [trace] = await traces(t, 1)
    expect(trace).toMatchObject({ name: 'GET /api/:version/admin/fail/:id', metrics: { response_code: 500 } })
    const crashes = t.server.crashes()
    expect(crashes).toHaveLength(1)
    expect(crashes[0]?.custom).toEqual({ method: 'GET', route: '/api/:version/admin/fail/:id', status: 500 })
  })

  it('finds routes added after the first request', async () => {
    const t = await setup()
    const { app, api } = routeTree(express, major, t)
    const base = await listen(app)
    await request(base, '/users/1')
    api.get('/late/:lateId', ok)
    const answer = await request(base, '/api/v4/late/8')
    expect(answer.status).toBe(200)
    const received = await traces(t, 2)
    expect(received.map((trace) => trace.name)).toEqual(['GET /users/:id', 'GET /api/:version/late/:lateId'])
  })

  it('serves the same templates to concurrent requests', async () => {
    const t = await setup()
    const { app } = routeTree(express, major, t)
    const base = await listen(app)
    const paths = Array.from({ length: 40 }, (_, i) =>
      i % 2 === 0 ? `/api/v${i}/admin/users/${i}` : `/v2/f${i}/ping/${i}`,
    )
    await Promise.all(paths.map((path) => request(base, path)))
    const received = await traces(t, paths.length)
    const names = received.map((trace) => trace.name)
    expect(names.filter((name) => name === 'GET /api/:version/admin/users/:id')).toHaveLength(20)
    expect(names.filter((name) => name === 'GET /v2/:flavor/ping/:n')).toHaveLength(20)
  })
})
