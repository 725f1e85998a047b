import type { IncomingHttpHeaders } from 'node:http'
import {
  CLIENT_CLOSED_STATUS,
  contentLength,
  countRequestBytes,
  countResponseBytes,
  errorStatus,
  type HttpInstrumentation,
  type HttpRequestFacts,
  type HttpRequestRecord,
  isBodiless,
  type RequestByteCount,
  type ResponseByteCount,
  type Telemeter,
  warnOnce,
} from '@telemeter/core'
import type { Context } from 'koa'
import { routeTemplate } from './route.js'

interface StreamLike {
  pipe(...args: unknown[]): unknown
  once(event: 'error', listener: (error: unknown) => void): unknown
}

function isNodeStream(body: object): body is StreamLike {
  return typeof (body as StreamLike).pipe === 'function' && typeof (body as StreamLike).once === 'function'
}

/** The common API body: Koa sends it with a Content-Length, no stream checks needed. */
function isPlainJson(body: object): boolean {
  const prototype = Object.getPrototypeOf(body)
  return prototype === Object.prototype || prototype === Array.prototype || prototype === null
}

/** Web bodies Koa 3 streams to the client (Koa 2 would send them as JSON). */
function isWebStream(body: object): boolean {
  return body instanceof ReadableStream || body instanceof Response
}

/**
 * One recorded request, from the first middleware to the end of its
 * response. It is also the request facts core reads: `user` and `ip` are
 * read only when the request's device is resolved, after authentication
 * middleware further down had its turn.
 */
export class KoaRequest implements HttpRequestFacts {
  readonly method: string
  readonly path: string
  readonly headers: IncomingHttpHeaders
  record: HttpRequestRecord | undefined = undefined
  private finished = false
  private requestBytes: RequestByteCount | undefined = undefined
  private responseBytes: ResponseByteCount | undefined = undefined

  constructor(
    private readonly telemeter: Telemeter,
    private readonly http: HttpInstrumentation<Context>,
    private readonly ctx: Context,
  ) {
    this.method = ctx.method
    this.path = ctx.path
    this.headers = ctx.req.headers
  }

  get user(): unknown {
    return this.ctx.state?.user
  }

  get ip(): string | undefined {
    return this.ctx.ip
  }

  /** Watch the response end, and count a chunked request body as the app reads it. */
  begin(record: HttpRequestRecord): void {
    this.record = record
    const { req, res } = this.ctx
    if (this.headers['content-length'] === undefined && this.headers['transfer-encoding'] !== undefined)
      this.requestBytes = countRequestBytes(req)
    res.on('close', this.onClose)
  }

  /** The response is done, or its client went away first. */
  private readonly onClose = (): void => {
    if (this.finished) return
    this.finished = true
    try {
      const record = this.record as HttpRequestRecord
      const ctx = this.ctx
      const res = ctx.res
      const status = !res.writableFinished && !res.headersSent ? CLIENT_CLOSED_STATUS : res.statusCode
      this.http.finish(record, {
        route: routeTemplate(ctx),
        status,
        requestBytes: contentLength(this.headers['content-length']) ?? this.requestBytes?.bytes ?? 0,
        responseBytes: isBodiless(this.method, status)
          ? 0
          : (this.responseBytes?.bytes ?? contentLength(res.getHeader('content-length')) ?? 0),
      })
    } catch (error) {
      this.internalError(error)
    }
  }

  /**
   * Report an error at once, with the status Koa answers it with: the
   * response may never end (Koa 2 leaves a response whose body stream failed
   * open), and Koa sets `err.status` on errors it answers, which would make
   * an `expose: true` error look like a 500. Core reports one per request.
   */
  failed(error: unknown): void {
    try {
      const record = this.record as HttpRequestRecord
      const res = this.ctx.res
      const status = res.headersSent ? res.statusCode : (errorStatus(error) ?? 500)
      this.http.captureError(record, error, this.ctx, { route: routeTemplate(this.ctx), status })
    } catch (internal) {
      this.internalError(internal)
    }
  }

  /** The middleware chain returned: Koa is about to send `ctx.body`. */
  returned(): void {
    if (this.finished) return
    try {
      const ctx = this.ctx
      const body: unknown = ctx.body
      if (typeof body === 'object' && body !== null && !Buffer.isBuffer(body) && !isPlainJson(body)) {
        if (isNodeStream(body)) {
          // A read error mid-body reaches only `app.on('error')`: it is this request's crash.
          body.once('error', (error) => this.failed(error))
          this.responseBytes = countResponseBytes(ctx.res)
        } else if (isWebStream(body)) {
          this.responseBytes = countResponseBytes(ctx.res)
        }
      }
      // A handler writing to ctx.res itself: what it writes from now on.
      if (ctx.respond === false && this.responseBytes === undefined)
        this.responseBytes = countResponseBytes(ctx.res)
    } catch (error) {
      this.internalError(error)
    }
  }

  private internalError(error: unknown): void {
    warnOnce(
      this.telemeter,
      'koa:internal',
      `@telemeter/koa failed internally (${(error as Error)?.message}); a request was not fully recorded`,
    )
  }
}
