import { createHash } from 'node:crypto'
import { MAX_GET_LENGTH } from './config.js'

/** Flat `/i` parameters; nested values (events, metrics, crash, apm...) are objects until encoded. */
export type RequestParams = Record<string, string | number | boolean | object>

/** One HTTP request to the server, ready for the transport. */
export interface WireRequest {
  readonly method: 'GET' | 'POST'
  /** Path with query (for GET), relative to the server URL's path prefix. */
  readonly path: string
  readonly body?: string
  readonly contentType?: string
  readonly endpoint: '/i' | '/i/bulk' | '/o/sdk'
}

export interface EncodeOptions {
  readonly appKey: string
  readonly salt: string | undefined
  readonly forcePost: boolean
}

/** `k=v&...` with nested values as JSON strings, as every Countly SDK sends them. */
export function encodeForm(params: Readonly<Record<string, unknown>>): string {
  let out = ''
  for (const key of Object.keys(params)) {
    const value = params[key]
    if (value === undefined || value === null) continue
    const text = typeof value === 'object' ? JSON.stringify(value) : String(value)
    out += `${out ? '&' : ''}${encodeURIComponent(key)}=${encodeURIComponent(text)}`
  }
  return out
}

/** Appends `checksum256` (SHA-256 of payload + salt, upper-case hex) as the last parameter (PROTOCOL §2.1). */
export function withChecksum(data: string, salt: string | undefined): string {
  if (!salt) return data
  const checksum = createHash('sha256')
    .update(data + salt)
    .digest('hex')
    .toUpperCase()
  return `${data}&checksum256=${checksum}`
}

/**
 * A single request to `/i` or `/o/sdk`: GET while the encoded query stays
 * below 2000 characters, else a urlencoded POST; signed when a salt is set.
 */
export function singleRequest(
  endpoint: '/i' | '/o/sdk',
  params: Readonly<Record<string, unknown>>,
  options: EncodeOptions,
): WireRequest {
  const data = withChecksum(encodeForm(params), options.salt)
  if (!options.forcePost && endpoint.length + 1 + data.length <= MAX_GET_LENGTH) {
    return { method: 'GET', path: `${endpoint}?${data}`, endpoint }
  }
  return {
    method: 'POST',
    path: endpoint,
    body: data,
    contentType: 'application/x-www-form-urlencoded',
    endpoint,
  }
}

/**
 * `POST /i/bulk` with a JSON body. Items are the stored JSON texts, spliced
 * in without parsing: the server accepts real arrays and objects in a JSON
 * body (PROTOCOL §1, §3).
 */
export function bulkRequest(bodies: readonly string[], appKey: string): WireRequest {
  return {
    method: 'POST',
    path: '/i/bulk',
    body: `{"app_key":${JSON.stringify(appKey)},"requests":[${bodies.join(',')}]}`,
    contentType: 'application/json',
    endpoint: '/i/bulk',
  }
}
