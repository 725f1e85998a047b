/** What `@koa/router` (and routers that mimic it) leave on `ctx`. */
interface RoutedContext {
  readonly method: string
  /** The path template of the layer that ran last (`/api/:version/users/:id`). */
  readonly _matchedRoute?: unknown
  /** Every layer whose path matched, across the routers the request went through. */
  readonly matched?: unknown
}

interface RouterLayer {
  readonly path?: unknown
  readonly methods?: unknown
}

function template(path: unknown): string | undefined {
  if (typeof path === 'string') return path === '' ? '/' : path
  if (path instanceof RegExp) return String(path)
  return undefined
}

function isRoute(layer: RouterLayer): boolean {
  return Array.isArray(layer.methods) && layer.methods.length > 0
}

/**
 * The route template of a request, or undefined when no route matched.
 *
 * `@koa/router` sets `ctx._matchedRoute` to the full template (router
 * prefixes and nested routers included) of every layer it runs, so when
 * router-level middleware (`router.use(auth)`) ends the request, it holds
 * that middleware's path (`/api/:version{/*rest}`). Then the route the
 * router had picked for the request, the last one in `ctx.matched` that
 * takes its method, is the one to report.
 */
export function routeTemplate(ctx: RoutedContext): string | undefined {
  const matchedRoute = ctx._matchedRoute
  const matched = ctx.matched
  if (!Array.isArray(matched) || matched.length === 0) return template(matchedRoute)
  let picked: RouterLayer | undefined
  for (let index = matched.length - 1; index >= 0; index--) {
    const layer = matched[index] as RouterLayer | null | undefined
    if (!layer || !isRoute(layer)) continue
    if (layer.path === matchedRoute) return template(matchedRoute)
    if (picked === undefined && (layer.methods as unknown[]).includes(ctx.method)) picked = layer
  }
  // No route of @koa/router's took the request: a template set by another router still counts.
  return template(picked === undefined ? matchedRoute : picked.path)
}
