import { EventEmitter } from 'node:events'
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import {
  CLIENT_CLOSED_STATUS,
  contentLength,
  type HttpRequestFacts,
  type HttpRequestRecord,
  type HttpResponseFacts,
  isBodiless,
} from '@telemeter/core'
import { PASS_THROUGH, type RouteCapture, STATE } from './request-state.js'

/** The request as this adapter reads it: Node's, plus what Express adds. */
export interface ExpressRequest extends IncomingMessage {
  /** Set only while a chunked request body is counted. */
  [STATE]?: Exchange
  telemeter?: unknown
  readonly app?: unknown
  readonly route?: unknown
  readonly baseUrl?: string
  readonly originalUrl?: string
  readonly user?: unknown
  readonly ip?: string
}

/** The state lives on the response only: every hook (route layer, error handler) gets `res` too. */
export interface ExpressResponse extends ServerResponse {
  [STATE]?: RouteCapture
}

/** What completes an exchange: the middleware's context. */
export interface ExchangeOwner {
  complete(exchange: Exchange, aborted: boolean): void
}

type Write = (this: ServerResponse, ...args: unknown[]) => unknown
type Emit = (this: IncomingMessage, event: string | symbol, ...args: unknown[]) => boolean

const COUNT_UNDECIDED = 0
const COUNT_WRITES = 1
const COUNT_FROM_HEADER = 2

/**
 * One request in flight: the facts handed to core when it starts and when
 * it ends (one object for both: one allocation per request), what the route
 * layer saw, the error, and the byte counters.
 */
export class Exchange implements HttpRequestFacts, HttpResponseFacts, RouteCapture {
  matchedRoute: object | undefined = undefined
  matchedBaseUrl: string | undefined = undefined
  readonly method: string
  readonly path: string
  readonly headers: IncomingHttpHeaders
  route: string | undefined = undefined
  status = 0
  requestBytes = 0
  responseBytes = 0
  record: HttpRequestRecord | undefined = undefined
  error: unknown = undefined
  hasError = false
  done = false
  bytesIn = 0
  bytesOut = 0
  countMode = COUNT_UNDECIDED
  originalWrite: Write | undefined = undefined
  originalEnd: Write | undefined = undefined
  originalEmit: Emit | undefined = undefined

  constructor(
    readonly owner: ExchangeOwner,
    readonly req: ExpressRequest,
    readonly res: ExpressResponse,
  ) {
    this.method = req.method ?? 'GET'
    const url = req.originalUrl ?? req.url ?? '/'
    const query = url.indexOf('?')
    this.path = query === -1 ? url : url.slice(0, query)
    this.headers = req.headers
  }

  /** Read when core resolves the request's device (first use of its scope, at the latest at the end). */
  get user(): unknown {
    return this.req.user
  }

  get ip(): string | undefined {
    return this.req.ip ?? this.req.socket?.remoteAddress
  }
}

function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string')
    return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
  if (chunk instanceof Uint8Array) return chunk.byteLength
  return 0
}

function countOut(res: ExpressResponse, exchange: Exchange, chunk: unknown, encoding: unknown): void {
  if (exchange.countMode === COUNT_UNDECIDED)
    exchange.countMode = res.getHeader('content-length') === undefined ? COUNT_WRITES : COUNT_FROM_HEADER
  if (exchange.countMode === COUNT_WRITES) exchange.bytesOut += byteLength(chunk, encoding)
}

// Per-response wrappers are shared functions reading their state from `this`:
// no closure is allocated per request.
function countingWrite(this: ExpressResponse, chunk: unknown, encoding: unknown): unknown {
  const exchange = this[STATE] as Exchange
  countOut(this, exchange, chunk, encoding)
  // biome-ignore lint/complexity/noArguments: forwards every overload of write() unchanged
  return (exchange.originalWrite as Write).apply(this, arguments as unknown as unknown[])
}

function countingEnd(this: ExpressResponse, chunk: unknown, encoding: unknown): unknown {
  const exchange = this[STATE] as Exchange
  if (chunk !== undefined && chunk !== null && typeof chunk !== 'function')
    countOut(this, exchange, chunk, encoding)
  // biome-ignore lint/complexity/noArguments: forwards every overload of end() unchanged
  return (exchange.originalEnd as Write).apply(this, arguments as unknown as unknown[])
}

function countingEmit(this: ExpressRequest, event: string | symbol, chunk?: unknown): boolean {
  const exchange = this[STATE]
  const counted = exchange instanceof Exchange ? exchange : undefined
  if (event === 'data' && counted) counted.bytesIn += byteLength(chunk, undefined)
  const emit = counted?.originalEmit ?? (EventEmitter.prototype.emit as Emit)
  // biome-ignore lint/complexity/noArguments: forwards every emit() unchanged
  return emit.apply(this, arguments as unknown as [string])
}

function onFinish(this: ExpressResponse): void {
  const exchange = this[STATE] as Exchange
  if (exchange.done) return
  exchange.done = true
  exchange.owner.complete(exchange, false)
}

function onClose(this: ExpressResponse): void {
  const exchange = this[STATE] as Exchange
  if (exchange.done) return
  exchange.done = true
  exchange.owner.complete(exchange, !this.writableFinished)
}

/**
 * Attach an exchange to its request and response: count bytes written when
 * no Content-Length says it (this response's own `write`/`end` only) and
 * the request body when it is chunked, and complete on `finish`, or on
 * `close` when the client went away first.
 */
export function attach(exchange: Exchange): void {
  const { req, res } = exchange
  res[STATE] = exchange
  exchange.originalWrite = res.write as unknown as Write
  exchange.originalEnd = res.end as unknown as Write
  res.write = countingWrite as unknown as ServerResponse['write']
  res.end = countingEnd as unknown as ServerResponse['end']
  const headers = req.headers
  if (headers['content-length'] === undefined && headers['transfer-encoding'] !== undefined) {
    req[STATE] = exchange
    exchange.originalEmit = req.emit as unknown as Emit
    req.emit = countingEmit as unknown as IncomingMessage['emit']
  }
  res.on('finish', onFinish)
  res.on('close', onClose)
}

/** Mark a request that is ignored, so nested middleware and route layers leave it alone. */
export function passThrough(res: ExpressResponse): void {
  res[STATE] = PASS_THROUGH
}

/** Fill status and sizes once the response is done. */
export function measure(exchange: Exchange, aborted: boolean): void {
  const { req, res } = exchange
  exchange.status = aborted && !res.headersSent ? CLIENT_CLOSED_STATUS : res.statusCode
  exchange.requestBytes = contentLength(req.headers['content-length']) ?? exchange.bytesIn
  const status = exchange.status
  if (isBodiless(exchange.method, status)) exchange.responseBytes = 0
  else exchange.responseBytes = contentLength(res.getHeader('content-length')) ?? exchange.bytesOut
}
