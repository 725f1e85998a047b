import type { IncomingHttpHeaders } from 'node:http'
import { numberAttribute, stringAttribute } from './span.js'

/**
 * What an HTTP span says about its request, read from either vocabulary of
 * the semantic conventions: the stable one (`http.request.method`,
 * `url.full`, ...) and the old one (`http.method`, `http.url`, ...).
 */
export interface HttpSpanFacts {
  /** Upper-case method. */
  readonly method: string
  /** `http.route`, when the framework knew the route. */
  readonly route: string | undefined
  /** Path without query string or fragment ('' when unknown). */
  readonly path: string
  /** Full URL, when the span has one. */
  readonly url: string | undefined
  /** Peer host (`server.address`, ...) and port, when the span has them. */
  readonly host: string | undefined
  readonly port: number | undefined
  /** `host[:port]`, the port left out when it is the scheme's default. */
  readonly authority: string | undefined
  /** Response status, 0 when none (the request failed). */
  readonly status: number
  readonly requestBytes: number | undefined
  readonly responseBytes: number | undefined
  /** Request headers captured as `http.request.header.<name>` attributes. */
  readonly headers: IncomingHttpHeaders
}

const REQUEST_HEADER_PREFIX = 'http.request.header.'

function first(
  read: typeof stringAttribute,
  attributes: Readonly<Record<string, unknown>>,
  keys: readonly string[],
): string | undefined
function first(
  read: typeof numberAttribute,
  attributes: Readonly<Record<string, unknown>>,
  keys: readonly string[],
): number | undefined
function first(
  read: (attributes: Readonly<Record<string, unknown>>, key: string) => string | number | undefined,
  attributes: Readonly<Record<string, unknown>>,
  keys: readonly string[],
): string | number | undefined {
  for (const key of keys) {
    const value = read(attributes, key)
    if (value !== undefined) return value
  }
  return undefined
}

const METHOD_KEYS = ['http.request.method', 'http.method'] as const
const URL_KEYS = ['url.full', 'http.url'] as const
const STATUS_KEYS = ['http.response.status_code', 'http.status_code'] as const
const HOST_KEYS = ['server.address', 'net.peer.name', 'net.host.name'] as const
const PORT_KEYS = ['server.port', 'net.peer.port', 'net.host.port'] as const
const REQUEST_SIZE_KEYS = [
  'http.request.body.size',
  'http.request_content_length',
  'http.request_content_length_uncompressed',
  'http.request.header.content-length',
  'http.request.header.content_length',
] as const
const RESPONSE_SIZE_KEYS = [
  'http.response.body.size',
  'http.response_content_length',
  'http.response_content_length_uncompressed',
  'http.response.header.content-length',
  'http.response.header.content_length',
] as const

/** The request method of an HTTP span, or undefined when the span is not one. */
export function httpMethodOf(attributes: Readonly<Record<string, unknown>>): string | undefined {
  let method = first(stringAttribute, attributes, METHOD_KEYS)
  // Stable conventions report unknown methods as `_OTHER` and keep the real one aside.
  if (method === '_OTHER') method = stringAttribute(attributes, 'http.request.method_original') ?? method
  return method?.toUpperCase()
}

function stripQuery(target: string): string {
  const end = target.search(/[?#]/)
  return end === -1 ? target : target.slice(0, end)
}

function parseUrl(url: string | undefined): URL | undefined {
  if (url === undefined) return undefined
  try {
    return new URL(url)
  } catch {
    return undefined
  }
}

function defaultPort(scheme: string | undefined): number {
  return scheme === 'https' || scheme === 'https:' ? 443 : 80
}

function headersOf(attributes: Readonly<Record<string, unknown>>): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {}
  for (const key in attributes) {
    if (!key.startsWith(REQUEST_HEADER_PREFIX)) continue
    const value = stringAttribute(attributes, key)
    if (value === undefined) continue
    // Old conventions wrote `content_type`, stable ones `content-type`.
    const name = key.slice(REQUEST_HEADER_PREFIX.length).toLowerCase()
    headers[name] = value
    headers[name.replaceAll('_', '-')] ??= value
  }
  return headers
}

/** Read the HTTP facts of a span that has a request method. */
export function httpFactsOf(attributes: Readonly<Record<string, unknown>>, method: string): HttpSpanFacts {
  const url = first(stringAttribute, attributes, URL_KEYS)
  let parsed: URL | undefined
  let path = stringAttribute(attributes, 'url.path')
  if (path === undefined) {
    const target = stringAttribute(attributes, 'http.target')
    if (target !== undefined) path = stripQuery(target)
    else path = (parsed ??= parseUrl(url))?.pathname
  }
  let host = first(stringAttribute, attributes, HOST_KEYS)
  let port = first(numberAttribute, attributes, PORT_KEYS)
  const scheme = stringAttribute(attributes, 'url.scheme') ?? stringAttribute(attributes, 'http.scheme')
  let authority: string | undefined
  if (url !== undefined && (parsed ??= parseUrl(url)) !== undefined) {
    authority = parsed.host
    host ??= parsed.hostname
    port ??= parsed.port === '' ? defaultPort(parsed.protocol) : Number(parsed.port)
  } else {
    const hostHeader = stringAttribute(attributes, 'http.host')
    if (host === undefined && hostHeader !== undefined) {
      const at = hostHeader.lastIndexOf(':')
      host = at > 0 && !hostHeader.endsWith(']') ? hostHeader.slice(0, at) : hostHeader
      if (port === undefined && at > 0) port = Number(hostHeader.slice(at + 1)) || undefined
    }
    if (host !== undefined) {
      port ??= defaultPort(scheme)
      const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
      authority = port === undefined || port === defaultPort(scheme) ? bracketed : `${bracketed}:${port}`
    }
  }
  return {
    method,
    route: stringAttribute(attributes, 'http.route'),
    path: path ?? '',
    url,
    host,
    port,
    authority,
    status: first(numberAttribute, attributes, STATUS_KEYS) ?? 0,
    requestBytes: first(numberAttribute, attributes, REQUEST_SIZE_KEYS),
    responseBytes: first(numberAttribute, attributes, RESPONSE_SIZE_KEYS),
    headers: headersOf(attributes),
  }
}

/** A path segment that is an id: a number, a UUID, or a long hex string with a digit (ObjectId, hash). */
const ID_SEGMENT =
  /^(?:\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?=[a-f]*\d)[0-9a-f]{8,})$/i
export const ID_PLACEHOLDER = ':id'

/**
 * A low-cardinality stand-in for a route template when the span has none:
 * the path with ids replaced by `:id` (`/users/42/orders/9f8e...` becomes
 * `/users/:id/orders/:id`). Query strings never reach here.
 */
export function templatePath(path: string): string {
  if (!/\d/.test(path)) return path
  const segments = path.split('/')
  for (let i = 0; i < segments.length; i++) {
    if (ID_SEGMENT.test(segments[i]!)) segments[i] = ID_PLACEHOLDER
  }
  return segments.join('/')
}
