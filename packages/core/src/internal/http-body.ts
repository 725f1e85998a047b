import type { IncomingMessage, ServerResponse } from 'node:http'
import type { RequestByteCount, ResponseByteCount } from '../types.js'

/** Statuses whose responses never carry a body, whatever was written. */
const BODILESS_STATUSES: ReadonlySet<number> = new Set([204, 205, 304])

/**
 * The status adapters report for a request whose client went away before any
 * response was sent (as nginx logs it).
 * @example
 * const status = res.headersSent || res.writableFinished ? res.statusCode : CLIENT_CLOSED_STATUS
 */
export const CLIENT_CLOSED_STATUS = 499

/**
 * Whether the response to a `method` request with `status` carries no body,
 * whatever its headers or writes say (HEAD, 204, 205, 304).
 * @example
 * const responseBytes = isBodiless(req.method, status) ? 0 : contentLength(res.getHeader('content-length')) ?? 0
 */
export function isBodiless(method: string | undefined, status: number): boolean {
  return method === 'HEAD' || BODILESS_STATUSES.has(status)
}

function chunkBytes(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') {
    const known = typeof encoding === 'string' && Buffer.isEncoding(encoding)
    return Buffer.byteLength(chunk, known ? (encoding as BufferEncoding) : 'utf8')
  }
  return ArrayBuffer.isView(chunk) ? chunk.byteLength : 0
}

type Write = (this: ServerResponse, ...args: unknown[]) => unknown
const COUNTER: unique symbol = Symbol('telemeter response bytes')
type Counted = ServerResponse & { [COUNTER]?: ByteCounter }

class ByteCounter implements ResponseByteCount {
  written = 0

  constructor(
    private readonly res: ServerResponse,
    readonly write: Write,
    readonly end: Write,
  ) {}

  get bytes(): number {
    const res = this.res
    return isBodiless(res.req?.method, res.statusCode) ? 0 : this.written
  }
}

// Shared by every counted response (a closure per response costs several microseconds);
// `arguments` is forwarded as the caller gave it: `end(callback)` and `end(chunk, callback)` differ.
function countedWrite(this: Counted, chunk: unknown, encoding: unknown): unknown {
  const counter = this[COUNTER]!
  counter.written += chunkBytes(chunk, encoding)
  // biome-ignore lint/complexity/noArguments: forwarded unchanged
  return Reflect.apply(counter.write, this, arguments)
}

function countedEnd(this: Counted, chunk: unknown, encoding: unknown): unknown {
  const counter = this[COUNTER]!
  counter.written += chunkBytes(chunk, encoding)
  // biome-ignore lint/complexity/noArguments: forwarded unchanged
  return Reflect.apply(counter.end, this, arguments)
}

/**
 * Count the body bytes written to this one response, for adapters whose
 * responses may be streamed or chunked (no Content-Length). The response's
 * own `write` and `end` shadow the ones it had for the rest of its life;
 * nothing else is touched, and a response is counted once however often this
 * is called. A HEAD request or a 204/205/304 counts 0.
 *
 * @example
 * ```ts
 * const written = countResponseBytes(res)
 * res.once('close', () => http.finish(record, { route, status: res.statusCode, responseBytes: written.bytes }))
 * ```
 */
export function countResponseBytes(res: ServerResponse): ResponseByteCount {
  const counted = res as Counted
  const existing = counted[COUNTER]
  if (existing) return existing
  const counter = new ByteCounter(res, res.write as Write, res.end as Write)
  counted[COUNTER] = counter
  ;(counted as { write: unknown }).write = countedWrite
  ;(counted as { end: unknown }).end = countedEnd
  return counter
}

type Emit = (this: IncomingMessage, ...args: unknown[]) => unknown
const REQUEST_COUNTER: unique symbol = Symbol('telemeter request bytes')
type CountedRequest = IncomingMessage & { [REQUEST_COUNTER]?: RequestByteCounter }

class RequestByteCounter implements RequestByteCount {
  bytes = 0

  constructor(readonly emit: Emit) {}
}

function countedEmit(this: CountedRequest, event: unknown, chunk: unknown): unknown {
  const counter = this[REQUEST_COUNTER]!
  if (event === 'data') counter.bytes += chunkBytes(chunk, undefined)
  // biome-ignore lint/complexity/noArguments: forwarded unchanged
  return Reflect.apply(counter.emit, this, arguments)
}

/**
 * Count the body bytes of a request without a Content-Length (chunked) as the
 * app reads them: the request's own `emit` sees every `data` event, so nothing
 * is read that the app does not read, and a body the app never reads counts 0.
 * Nothing else is touched; a request is counted once however often this is called.
 *
 * @example
 * ```ts
 * const read = contentLength(req.headers['content-length']) === undefined ? countRequestBytes(req) : undefined
 * // later: requestBytes: contentLength(req.headers['content-length']) ?? read?.bytes ?? 0
 * ```
 */
export function countRequestBytes(req: IncomingMessage): RequestByteCount {
  const counted = req as CountedRequest
  const existing = counted[REQUEST_COUNTER]
  if (existing) return existing
  const counter = new RequestByteCounter(req.emit as Emit)
  counted[REQUEST_COUNTER] = counter
  ;(counted as { emit: unknown }).emit = countedEmit
  return counter
}

/**
 * A Content-Length header value as a byte count; `undefined` when absent or invalid.
 * @example contentLength(req.headers['content-length']) ?? 0
 */
export function contentLength(value: number | string | readonly string[] | undefined): number | undefined {
  const first = Array.isArray(value) ? value[0] : value
  const length = typeof first === 'string' && first !== '' ? Number(first) : first
  return typeof length === 'number' && Number.isSafeInteger(length) && length >= 0 ? length : undefined
}
