import { type AppLike, isApp, isRouter, type LayerLike, type RouterLike, routerOf } from './express-shapes.js'
import {
  type MountTemplate,
  mountTemplateOf,
  OPAQUE_SEGMENT,
  patternText,
  type RouteTemplate,
  routeTemplateOf,
} from './layer-templates.js'
import {
  ERROR_HANDLER_MARK,
  MIDDLEWARE_MARK,
  PASS_THROUGH,
  type RouteCapture,
  STATE,
} from './request-state.js'

/** Where a route is reachable from: the mounts above it, one list per place its router is mounted. */
interface RouteEntry {
  readonly chains: (readonly MountTemplate[])[]
  readonly route: RouteTemplate
  /** The full template when no part depends on the request (the common case). */
  fixed: string | undefined
}

/** What the self-check needs to know about one stack of layers. */
export interface StackLayout {
  /** Positions of telemeterMiddleware, telemeterErrorHandler and of layers leading to routes. */
  readonly middleware: number[]
  readonly errorHandlers: number[]
  readonly routes: number[]
}

const ORIGINAL_HANDLE = Symbol('telemeter.express.originalHandle')
const MAX_MOUNT_DEPTH = 32
const RETRY_UNKNOWN_ROUTE_MS = 10_000

type Handle = LayerLike['handle']

/**
 * Records, when Express dispatches a route layer, which route it was and the
 * concrete base URL (one wrapper per route layer of the instrumented app,
 * created once; nothing global is patched).
 */
function wrapRouteLayer(layer: LayerLike): void {
  const original = layer.handle
  if (typeof original !== 'function' || (original as { [ORIGINAL_HANDLE]?: unknown })[ORIGINAL_HANDLE]) return
  const route = layer.route as object
  const wrapped = function telemeterRoute(
    this: unknown,
    req: { baseUrl?: string },
    res: { [STATE]?: RouteCapture },
    next: unknown,
  ): unknown {
    const state = res[STATE]
    if (state !== undefined && state !== PASS_THROUGH) {
      state.matchedRoute = route
      state.matchedBaseUrl = req.baseUrl
    }
    return (original as unknown as (...args: unknown[]) => unknown).call(this, req, res, next)
  }
  Object.defineProperty(wrapped, ORIGINAL_HANDLE, { value: original })
  layer.handle = wrapped as unknown as Handle
}

function joinTemplate(prefix: string, routePath: string): string {
  if (prefix !== '' && routePath === '/') return prefix
  return prefix + routePath
}

/**
 * Route templates of the applications one middleware serves. Built on the
 * first request through an application (when its routes exist), rebuilt when
 * a route shows up that was added later.
 */
export class RouteIndex {
  private readonly routes = new WeakMap<object, RouteEntry>()
  private readonly indexed = new WeakSet<object>()
  private readonly unknownUntil = new WeakMap<object, number>()

  /** Index `app` unless done already; returns the layout of its own stack the first time. */
  observe(app: unknown): StackLayout[] | undefined {
    if (!isApp(app) || this.indexed.has(app)) return undefined
    this.indexed.add(app)
    return this.index(app)
  }

  /**
   * The full template of the route a request ended on, undefined when no
   * route matched. `pathname` is needed only for routes registered with an
   * array of paths.
   */
  template(capture: RouteCapture, req: RequestLike): string | undefined {
    const route = capture.matchedRoute ?? (req.route as object | undefined)
    if (typeof route !== 'object' || route === null) return undefined
    const baseUrl = (capture.matchedRoute ? capture.matchedBaseUrl : req.baseUrl) ?? ''
    let entry = this.routes.get(route)
    if (entry === undefined) entry = this.discover(route, req.app)
    if (entry === undefined) {
      const own = patternText((route as { path?: unknown }).path) ?? OPAQUE_SEGMENT
      return baseUrl === '' ? own : joinTemplate(OPAQUE_SEGMENT, own)
    }
    if (entry.fixed !== undefined) return entry.fixed
    return this.resolve(entry, baseUrl, req)
  }

  private resolve(entry: RouteEntry, baseUrl: string, req: RequestLike): string {
    let prefix: string | undefined
    for (const chain of entry.chains) {
      prefix = matchChain(chain, baseUrl)
      if (prefix !== undefined) break
    }
    if (prefix === undefined)
      prefix = (entry.chains[0] ?? []).map((mount) => mount.fixed ?? OPAQUE_SEGMENT).join('')
    const own = entry.route.fixed ?? entry.route.resolve(restOf(req, baseUrl))
    return joinTemplate(prefix, own)
  }

  /** A route not seen yet: added after the first request, or inside a sub-application. */
  private discover(route: object, app: unknown): RouteEntry | undefined {
    if (!isApp(app)) return undefined
    if (!this.indexed.has(app)) {
      this.indexed.add(app)
      this.index(app)
      const entry = this.routes.get(route)
      if (entry) return entry
    }
    // Re-walking is bounded: at most once per unknown route every few seconds.
    const now = Date.now()
    if ((this.unknownUntil.get(route) ?? 0) > now) return undefined
    this.unknownUntil.set(route, now + RETRY_UNKNOWN_ROUTE_MS)
    this.index(app)
    return this.routes.get(route)
  }

  private index(app: AppLike): StackLayout[] {
    const router = routerOf(app)
    const layouts: StackLayout[] = []
    if (!router) return layouts
    const found = new Map<object, RouteEntry>()
    this.walk(router, appChain(app, 0), found, new Set(), layouts)
    for (const [route, entry] of found) {
      entry.fixed =
        entry.chains.length === 1 && entry.route.fixed !== undefined
          ? fixedChain(entry.chains[0] ?? [], entry.route.fixed)
          : undefined
      this.routes.set(route, entry)
    }
    return layouts
  }

  /** Returns whether the stack leads to at least one route. */
  private walk(
    router: RouterLike,
    chain: readonly MountTemplate[],
    found: Map<object, RouteEntry>,
    visiting: Set<object>,
    layouts: StackLayout[],
  ): boolean {
    if (visiting.has(router) || chain.length > MAX_MOUNT_DEPTH) return false
    visiting.add(router)
    const layout: StackLayout = { middleware: [], errorHandlers: [], routes: [] }
    layouts.push(layout)
    const stack = router.stack
    for (let i = 0; i < stack.length; i++) {
      const layer = stack[i]
      if (!layer || typeof layer.handle !== 'function') continue
      const handle = layer.handle as unknown as Record<symbol, unknown>
      if (handle[MIDDLEWARE_MARK]) layout.middleware.push(i)
      if (handle[ERROR_HANDLER_MARK]) layout.errorHandlers.push(i)
      const route = layer.route
      if (typeof route === 'object' && route !== null) {
        const entry = found.get(route) ?? { chains: [], route: routeTemplateOf(layer), fixed: undefined }
        entry.chains.push(chain)
        found.set(route, entry)
        wrapRouteLayer(layer)
        layout.routes.push(i)
        continue
      }
      const child = isRouter(layer.handle) ? layer.handle : routerOf(layer.handle)
      if (child && this.walk(child, [...chain, mountTemplateOf(layer)], found, visiting, layouts))
        layout.routes.push(i)
    }
    visiting.delete(router)
    return layout.routes.length > 0
  }
}

/** The request fields templates are read from. */
export interface RequestLike {
  readonly route?: unknown
  readonly baseUrl?: string
  readonly app?: unknown
  readonly originalUrl?: string
  readonly url?: string
}

function restOf(req: RequestLike, baseUrl: string): string {
  const url = req.originalUrl ?? req.url ?? '/'
  const query = url.indexOf('?')
  const path = query === -1 ? url : url.slice(0, query)
  return path.slice(baseUrl.length) || '/'
}

function fixedChain(chain: readonly MountTemplate[], own: string): string | undefined {
  let prefix = ''
  for (const mount of chain) {
    if (mount.fixed === undefined) return undefined
    prefix += mount.fixed
  }
  return joinTemplate(prefix, own)
}

function matchChain(chain: readonly MountTemplate[], baseUrl: string): string | undefined {
  let rest = baseUrl
  let template = ''
  for (const mount of chain) {
    const match = mount.match(rest)
    if (!match) return undefined
    template += match.template
    rest = rest.slice(match.consumed)
  }
  return rest === '' || rest === '/' ? template : undefined
}

/** The mounts above a sub-application (`parent.use('/admin', admin)`), up to the top application. */
function appChain(app: AppLike, depth: number): MountTemplate[] {
  const parent = app.parent
  if (!isApp(parent) || depth > MAX_MOUNT_DEPTH) return []
  return [...appChain(parent, depth + 1), subAppMount(parent, app)]
}

/**
 * Express wraps a mounted application in an anonymous `mounted_app`
 * function: find its layer in the parent by the application's `mountpath`.
 */
function subAppMount(parent: AppLike, app: AppLike): MountTemplate {
  const wanted = typeof app.mountpath === 'string' ? app.mountpath.replace(/\/+$/, '') : undefined
  const candidates = (routerOf(parent)?.stack ?? [])
    .filter((layer) => layer?.handle?.name === 'mounted_app')
    .map(mountTemplateOf)
  const exact = candidates.find((mount) => mount.fixed !== undefined && mount.fixed === wanted)
  if (exact) return exact
  return {
    fixed: wanted,
    match(baseUrl) {
      let first: ReturnType<MountTemplate['match']>
      for (const mount of candidates) {
        const match = mount.match(baseUrl)
        if (!match) continue
        if (wanted === undefined || match.template === wanted)
          return { consumed: match.consumed, template: wanted ?? match.template }
        first ??= match
      }
      return first && { consumed: first.consumed, template: wanted ?? first.template }
    },
  }
}
