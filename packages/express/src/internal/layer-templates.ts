import type { KeyLike, LayerLike, LayerMatch } from './express-shapes.js'

/** How much of a concrete base URL one mount consumed, and its template. */
export interface SegmentMatch {
  readonly consumed: number
  readonly template: string
}

/**
 * The template of a mount (`app.use('/api/:version', router)`): fixed when
 * the registered path is known, else recovered from the concrete base URL
 * with the parameters put back (`/api/v2` -> `/api/:version`).
 */
export interface MountTemplate {
  /** The template whatever the request, when known without matching. */
  readonly fixed: string | undefined
  /** Match the start of a concrete base URL; undefined when it does not match. */
  match(baseUrl: string): SegmentMatch | undefined
}

/** The template of a route's own path; only paths registered as arrays need the request. */
export interface RouteTemplate {
  readonly fixed: string | undefined
  /** The template for the path left after the mounts (`rest`). */
  resolve(rest: string): string
}

/** When nothing safe can be said about a segment: never the concrete text. */
export const OPAQUE_SEGMENT = '/*'

/** Express 4 (`path-to-regexp` 0.1) ends every non-terminal path with this lookahead. */
const PATH_TO_REGEXP_PREFIX_END = /(?:\\\/\?)?\(\?=\\\/\|\$\)$/
const REGEXP_SYNTAX = /[()[\]{}*+?|^$]/

function withoutTrailingSlash(path: string): string {
  let end = path.length
  while (end > 0 && path.charCodeAt(end - 1) === 47 /* / */) end--
  return end === path.length ? path : path.slice(0, end)
}

/** A registered pattern as text: strings as written, RegExps as `/source/flags`. */
export function patternText(pattern: unknown): string | undefined {
  if (typeof pattern === 'string') return pattern
  if (pattern instanceof RegExp) return String(pattern)
  return undefined
}

function mountText(pattern: unknown): string | undefined {
  const text = patternText(pattern)
  if (text === undefined) return undefined
  return typeof pattern === 'string' ? withoutTrailingSlash(text) : text
}

function fixedMount(template: string, match: (baseUrl: string) => number | undefined): MountTemplate {
  return {
    fixed: template,
    match(baseUrl) {
      const consumed = match(baseUrl)
      return consumed === undefined ? undefined : { consumed, template }
    },
  }
}

function safeDecode(text: string): string {
  if (!text.includes('%')) return text
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/**
 * router < 2.3 keeps neither the registered path nor the match positions:
 * put the parameter names back where their (decoded) values sit, last
 * parameter first from the right (a value equal to a literal segment before
 * it, as in `/v/:v`, is then still placed right). Anything that cannot be
 * placed makes the whole mount opaque, so a value never leaks.
 */
export function substituteParams(path: string, params: Record<string, unknown>): string {
  const segments = path.split('/')
  let limit = segments.length
  const names = Object.keys(params)
  for (let n = names.length - 1; n >= 0; n--) {
    const name = names[n] as string
    const value = params[name]
    if (value === undefined) continue
    const values = Array.isArray(value) ? value.map(String) : [String(value)]
    let found = -1
    for (let i = limit - values.length; i >= 1 && found < 0; i--) {
      let equal = true
      for (let j = 0; j < values.length && equal; j++) equal = safeDecode(segments[i + j] ?? '') === values[j]
      if (equal) found = i
    }
    if (found < 0) return OPAQUE_SEGMENT
    segments.splice(found, values.length, Array.isArray(value) ? `*${name}` : `:${name}`)
    limit = found
  }
  return withoutTrailingSlash(segments.join('/'))
}

function consumedPath(match: LayerMatch | false | undefined): string | undefined {
  return match && typeof match.path === 'string' ? match.path : undefined
}

/** router 2.x (Express 5) mounts. */
function routerMount(layer: LayerLike): MountTemplate {
  const matchers = layer.matchers ?? []
  if (layer.slash === true) return fixedMount('', () => 0)
  const raw = layer.rawPath
  const patterns = Array.isArray(raw) ? raw : raw === undefined ? undefined : [raw]
  const single = patterns?.length === 1 ? mountText(patterns[0]) : undefined
  const run = (baseUrl: string): SegmentMatch | undefined => {
    for (let i = 0; i < matchers.length; i++) {
      const match = matchers[i]?.(baseUrl)
      const path = consumedPath(match)
      if (path === undefined) continue
      const template = patterns
        ? (mountText(patterns[i]) ?? OPAQUE_SEGMENT)
        : substituteParams(path, (match as LayerMatch).params ?? {})
      return { consumed: withoutTrailingSlash(path).length, template }
    }
    return undefined
  }
  return { fixed: single, match: run }
}

function literalOf(source: string): string | undefined {
  const body = source.slice(1).replace(PATH_TO_REGEXP_PREFIX_END, '')
  const text = body.replace(/\\(.)/g, '$1')
  // Escapes removed, no regular-expression syntax may remain for a plain literal.
  return REGEXP_SYNTAX.test(body.replace(/\\./g, '')) ? undefined : text
}

/** Replace each captured span of `match` by its parameter name (`:id`, or `*` for unnamed groups). */
function templateFromIndices(match: RegExpExecArray, keys: readonly KeyLike[]): string {
  const text = match[0]
  const spans = match.indices
  if (!spans) return OPAQUE_SEGMENT
  const start = match.index
  let out = ''
  let cursor = 0
  for (let i = 1; i < match.length; i++) {
    const span = spans[i]
    if (!span) continue
    const from = span[0] - start
    if (from < cursor) continue
    const key = keys.length === match.length - 1 ? keys[i - 1] : undefined
    const name = typeof key?.name === 'string' ? `:${key.name}${key.optional ? '?' : ''}` : '*'
    out += text.slice(cursor, from) + name
    cursor = span[1] - start
  }
  return out + text.slice(cursor)
}

function withIndices(regexp: RegExp): RegExp {
  const flags = regexp.flags.replace(/[gy]/g, '')
  return new RegExp(regexp.source, flags.includes('d') ? flags : `${flags}d`)
}

/** Express 4 mounts: only the compiled RegExp and its keys are kept. */
function expressFourMount(layer: LayerLike): MountTemplate {
  const regexp = layer.regexp as NonNullable<LayerLike['regexp']>
  if (regexp.fast_slash) return fixedMount('', () => 0)
  if (regexp.fast_star) return fixedMount('*', (baseUrl) => baseUrl.length)
  const keys = layer.keys ?? []
  const indexed = withIndices(regexp)
  const exec = (baseUrl: string): RegExpExecArray | undefined => {
    indexed.lastIndex = 0
    const match = indexed.exec(baseUrl)
    return match && match.index === 0 ? match : undefined
  }
  const consumed = (baseUrl: string): number | undefined => {
    const match = exec(baseUrl)
    return match ? withoutTrailingSlash(match[0]).length : undefined
  }
  const source = regexp.source
  const compiledFromString = source.startsWith('^') && PATH_TO_REGEXP_PREFIX_END.test(source)
  // A RegExp the user registered: its own text is the template.
  if (!compiledFromString) return fixedMount(String(regexp), consumed)
  if (keys.length === 0) {
    const literal = literalOf(source)
    if (literal !== undefined) return fixedMount(withoutTrailingSlash(literal), consumed)
  }
  return {
    fixed: undefined,
    match(baseUrl) {
      const match = exec(baseUrl)
      if (!match) return undefined
      return {
        consumed: withoutTrailingSlash(match[0]).length,
        template: withoutTrailingSlash(templateFromIndices(match, keys)),
      }
    },
  }
}

/** The template of a layer that mounts a router or an application. */
export function mountTemplateOf(layer: LayerLike): MountTemplate {
  if (layer.regexp instanceof RegExp) return expressFourMount(layer)
  if (Array.isArray(layer.matchers)) return routerMount(layer)
  return { fixed: undefined, match: () => undefined }
}

/** The template of a route layer (`router.get(path, ...)`): its path as registered. */
export function routeTemplateOf(layer: LayerLike): RouteTemplate {
  const path = layer.route?.path
  const fixed = patternText(path)
  if (fixed !== undefined) return { fixed, resolve: () => fixed }
  if (!Array.isArray(path)) return { fixed: OPAQUE_SEGMENT, resolve: () => OPAQUE_SEGMENT }
  const paths: readonly unknown[] = path
  if (Array.isArray(layer.matchers)) {
    const matchers = layer.matchers
    return {
      fixed: undefined,
      resolve(rest) {
        for (let i = 0; i < matchers.length; i++) {
          if (consumedPath(matchers[i]?.(rest)) !== undefined) return patternText(paths[i]) ?? OPAQUE_SEGMENT
        }
        return OPAQUE_SEGMENT
      },
    }
  }
  const regexp = layer.regexp
  if (!(regexp instanceof RegExp)) return { fixed: OPAQUE_SEGMENT, resolve: () => OPAQUE_SEGMENT }
  const indexed = withIndices(regexp)
  const keys = layer.keys ?? []
  return {
    fixed: undefined,
    resolve(rest) {
      indexed.lastIndex = 0
      const match = indexed.exec(rest)
      return match ? templateFromIndices(match, keys) : OPAQUE_SEGMENT
    },
  }
}
