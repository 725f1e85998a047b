import express4 from 'express4'
import express5 from 'express5'
import { describe, expect, it } from 'vitest'
import type { LayerLike } from './express-shapes.js'
import { mountTemplateOf, OPAQUE_SEGMENT, routeTemplateOf, substituteParams } from './layer-templates.js'

const noop = () => {}

/** The layers of a real app, in registration order (after Express's own). */
function layersOf(app: unknown): LayerLike[] {
  const router = app as { _router?: { stack: LayerLike[] }; router?: { stack: LayerLike[] } }
  return (
    (router._router ?? router.router)?.stack.filter(
      (layer) => !['query', 'expressInit'].includes(layer.name ?? ''),
    ) ?? []
  )
}

/** A router < 2.3 layer: the same matchers, no `rawPath`. */
function withoutRawPath(layer: LayerLike): LayerLike {
  const legacy = Object.create(Object.getPrototypeOf(layer)) as LayerLike
  Object.assign(legacy, layer)
  delete (legacy as { rawPath?: unknown }).rawPath
  return legacy
}

describe('mount templates', () => {
  it('recover Express 4 mount templates from the compiled RegExp and the match positions', () => {
    const app = express4()
    app.use('/api/:version', express4.Router())
    app.use('/static.files', express4.Router())
    app.use(['/m1', '/m2/:k'], express4.Router())
    app.use('/opt/:o?', express4.Router())
    app.use(/^\/re(\d+)/, express4.Router())
    app.use(express4.Router())
    const [api, literal, list, optional, regexp, root] = layersOf(app).map((layer) => mountTemplateOf(layer))
    expect(api?.fixed).toBeUndefined()
    expect(api?.match('/api/v2/users')).toEqual({ consumed: 7, template: '/api/:version' })
    expect(api?.match('/other')).toBeUndefined()
    expect(literal?.fixed).toBe('/static.files')
    expect(literal?.match('/STATIC.files/x')).toEqual({ consumed: 13, template: '/static.files' })
    expect(list?.match('/m2/abc')).toEqual({ consumed: 7, template: '/m2/:k' })
    expect(list?.match('/m1')).toEqual({ consumed: 3, template: '/m1' })
    expect(optional?.match('/opt/x')).toEqual({ consumed: 6, template: '/opt/:o?' })
    expect(regexp?.fixed).toBe('/^\\/re(\\d+)/')
    expect(regexp?.match('/re42/x')).toEqual({ consumed: 5, template: '/^\\/re(\\d+)/' })
    expect(root?.fixed).toBe('')
  })

  it('use the registered path on Express 5, and put parameters back on router < 2.3', () => {
    const app = express5()
    app.use('/api/:version', express5.Router())
    app.use('/files/*rest', express5.Router())
    app.use(['/a', '/b/:id'], express5.Router())
    const [api, splat, list] = layersOf(app)
    expect(mountTemplateOf(api as LayerLike).fixed).toBe('/api/:version')
    expect(mountTemplateOf(list as LayerLike).match('/b/7/x')).toEqual({ consumed: 4, template: '/b/:id' })

    const legacyApi = mountTemplateOf(withoutRawPath(api as LayerLike))
    expect(legacyApi.fixed).toBeUndefined()
    expect(legacyApi.match('/api/v%202/users')).toEqual({ consumed: 10, template: '/api/:version' })
    expect(mountTemplateOf(withoutRawPath(splat as LayerLike)).match('/files/x/y')).toEqual({
      consumed: 10,
      template: '/files/*rest',
    })
  })

  it('never keep a value it cannot place', () => {
    expect(substituteParams('/v/v', { v: 'v' })).toBe('/v/:v')
    expect(substituteParams('/users/42/posts/7', { user: '42', post: '7' })).toBe('/users/:user/posts/:post')
    expect(substituteParams('/files/report.pdf', { name: 'report', ext: 'pdf' })).toBe(OPAQUE_SEGMENT)
  })
})

describe('route templates', () => {
  it('are the path as registered, or the matching entry of an array', () => {
    for (const express of [express4, express5]) {
      const app = express()
      app.get('/users/:id', noop)
      app.get(/^\/files\/(.*)$/, noop)
      app.get(['/alpha/:a', '/beta/:b'], noop)
      const [plain, regexp, list] = layersOf(app).map((layer) => routeTemplateOf(layer))
      expect(plain?.fixed).toBe('/users/:id')
      expect(regexp?.fixed).toBe('/^\\/files\\/(.*)$/')
      expect(list?.fixed).toBeUndefined()
      expect(list?.resolve('/beta/9')).toBe('/beta/:b')
      expect(list?.resolve('/gamma')).toBe(OPAQUE_SEGMENT)
    }
  })
})
