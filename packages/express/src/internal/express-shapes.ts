/**
 * The parts of Express's (4.x) and router's (2.x, used by Express 5) internals
 * this adapter reads. Local interfaces instead of `import 'express'`: the
 * package never loads its framework, and every field is optional because it
 * is read defensively.
 */

/** A path a layer or route was registered with. */
export type RegisteredPath = string | RegExp | readonly (string | RegExp)[]

/** `path-to-regexp` 0.1 keys (Express 4). */
export interface KeyLike {
  readonly name?: string | number
  readonly optional?: boolean
}

/** What `layer.match(path)` (router >= 2.3) and each of `layer.matchers` (router 2.x) return. */
export interface LayerMatch {
  readonly path?: string
  readonly params?: Record<string, unknown>
  readonly pattern?: unknown
}

export interface RouteLike {
  readonly path?: unknown
  readonly stack?: unknown
}

export interface LayerLike {
  /** The handler; replaced by a recording wrapper on route layers. */
  handle: ((...args: never[]) => unknown) & { readonly [key: string]: unknown }
  readonly name?: string
  readonly route?: RouteLike
  /** Express 4: the compiled path, with `fast_slash` / `fast_star` flags. */
  readonly regexp?: RegExp & { readonly fast_slash?: boolean; readonly fast_star?: boolean }
  /** Express 4: parameter names, in capture-group order. */
  readonly keys?: readonly KeyLike[]
  /** router >= 2.3 (Express 5): the path exactly as registered. */
  readonly rawPath?: unknown
  /** router 2.x (Express 5): one matcher per registered path, without side effects. */
  readonly matchers?: readonly ((path: string) => LayerMatch | false)[]
  /** router 2.x: registered at `/` with `end: false` (matches everything). */
  readonly slash?: boolean
}

export interface RouterLike {
  readonly stack: LayerLike[]
}

/** An Express application, as `req.app` and `app.parent` give it. */
export interface AppLike {
  /** Express 4: the lazily created router. */
  readonly _router?: unknown
  /** Express 5: the router (a getter creating it lazily). */
  readonly router?: unknown
  /** The path a sub-application was mounted at (`app.use(path, subApp)`). */
  readonly mountpath?: unknown
  /** The application a sub-application was mounted on. */
  readonly parent?: unknown
}

export function isRouter(value: unknown): value is RouterLike {
  return (
    (typeof value === 'function' || (typeof value === 'object' && value !== null)) &&
    Array.isArray((value as { stack?: unknown }).stack)
  )
}

/** An Express application (a function with `handle` and `set`), not a plain middleware. */
export function isApp(value: unknown): value is AppLike {
  return (
    typeof value === 'function' &&
    typeof (value as { handle?: unknown }).handle === 'function' &&
    typeof (value as { set?: unknown }).set === 'function'
  )
}

/** The router of an application, without creating one (Express 4 creates it lazily). */
export function routerOf(app: unknown): RouterLike | undefined {
  if (!isApp(app)) return undefined
  try {
    const candidate = app._router ?? app.router
    return isRouter(candidate) ? candidate : undefined
  } catch {
    return undefined
  }
}
