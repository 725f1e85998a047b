import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import {
  currentScope,
  type DeviceScope,
  type HttpRequestFacts,
  type HttpRequestRecord,
  type ResponseByteCount,
  runWithScope,
} from '@telemeter/core'
import type { TelemeterRequest } from '../types.js'

export const NO_ERROR: unique symbol = Symbol('no error')

/**
 * Where a Node.js request and its response keep their state. Set when the
 * server receives them, before the platform does: Express swaps their
 * prototype, after which every property added to them costs microseconds.
 */
const STATE: unique symbol = Symbol('@telemeter/nest request')
type Marked = { [STATE]?: RequestState }

/**
 * What the exception observer saw, by request scope. Exception filters see
 * only the exception; core's request context (the scope `currentScope()`
 * returns, one per request) is how it is tied to its request, without a second
 * AsyncLocalStorage and with nothing to do for requests that throw nothing.
 */
const exceptionsByScope = new WeakMap<DeviceScope, unknown>()

/** Note the first exception of the request being handled, if it is recorded. */
export function noteException(exception: unknown): void {
  const scope = currentScope()
  if (scope && !exceptionsByScope.has(scope)) exceptionsByScope.set(scope, exception)
}

/**
 * One HTTP request from the entry middleware until its response closed. It is
 * also the request facts core reads: `user` and `ip` are read when the
 * request's device is resolved, after guards (authentication) had their turn.
 */
export class RequestState implements HttpRequestFacts {
  readonly method: string
  readonly path: string
  readonly headers: IncomingHttpHeaders
  /** What `@Req()` gives handlers, once the platform has made it. */
  request: TelemeterRequest | undefined
  /** Undefined before the request started, and for ignored requests. */
  record: HttpRequestRecord | undefined
  started = false
  finished = false
  /** Express: no route of the application matched. */
  unmatched = false

  constructor(
    readonly recorder: { finish(state: RequestState): void },
    readonly raw: IncomingMessage,
    readonly res: ServerResponse,
    readonly written: ResponseByteCount,
    readonly enteredAt: number,
    readonly enteredAtMs: number,
  ) {
    this.method = raw.method ?? 'GET'
    const url = (raw as { originalUrl?: string }).originalUrl ?? raw.url ?? '/'
    const query = url.indexOf('?')
    this.path = query === -1 ? url : url.slice(0, query)
    this.headers = raw.headers
  }

  get user(): unknown {
    return (this.request ?? (this.raw as unknown as TelemeterRequest)).user
  }

  get ip(): string | undefined {
    const ip = (this.request as { ip?: unknown } | undefined)?.ip
    return typeof ip === 'string' ? ip : this.raw.socket?.remoteAddress
  }

  /** The first exception noted for the request, or NO_ERROR; forgotten once read. */
  takeError(): unknown {
    const scope = this.record?.scope
    if (!scope || !exceptionsByScope.has(scope)) return NO_ERROR
    const error = exceptionsByScope.get(scope)
    exceptionsByScope.delete(scope)
    return error
  }

  /** Run `fn` in this request's context (its scope for `currentScope()`). */
  run<T>(fn: () => T): T {
    const record = this.record
    return record ? runWithScope(record.scope, fn) : fn()
  }
}

/** The state of a Node.js request, or of its response. */
export function stateOf(message: IncomingMessage | ServerResponse | undefined): RequestState | undefined {
  return (message as Marked | undefined)?.[STATE]
}

export function markRequest(state: RequestState): void {
  ;(state.raw as Marked)[STATE] = state
  ;(state.res as Marked)[STATE] = state
}
