import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  CLIENT_CLOSED_STATUS,
  contentLength,
  countResponseBytes,
  debugWarnOnce,
  type HttpResponseFacts,
  warnOnce,
} from '@telemeter/core'
import type { TelemeterRequest } from '../types.js'
import { markRequest, NO_ERROR, RequestState, stateOf } from './request-state.js'
import type { TelemeterRuntime } from './runtime.js'

type Next = (error?: unknown) => void
type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void

/** What the module uses of Nest's `AbstractHttpAdapter`. */
export interface HttpAdapterLike {
  getType?(): string
  getInstance?(): unknown
  getHttpServer?(): unknown
  use?(...args: unknown[]): unknown
}

interface HttpServerLike {
  prependListener(event: 'request', listener: (req: IncomingMessage, res: ServerResponse) => void): unknown
}

/** What the module uses of a `FastifyRequest`. */
interface FastifyRequestLike extends TelemeterRequest {
  readonly raw: IncomingMessage
  readonly is404?: boolean
  readonly routeOptions?: { readonly url?: unknown }
}

interface FastifyLike {
  addHook(name: string, hook: (request: FastifyRequestLike, reply: unknown, done: Next) => void): unknown
}

function expressRoute(state: RequestState): string | undefined {
  if (state.unmatched) return undefined
  const path = (state.raw as { route?: { path?: unknown } }).route?.path
  return typeof path === 'string' ? path : undefined
}

function fastifyRoute(state: RequestState): string | undefined {
  const request = state.request as FastifyRequestLike | undefined
  if (!request || request.is404 === true) return undefined
  const url = request.routeOptions?.url
  return typeof url === 'string' ? url : undefined
}

/** One listener for every response (no closure per request). */
function onResponseClose(this: ServerResponse): void {
  const state = stateOf(this)
  if (state) state.recorder.finish(state)
}

/**
 * Records the HTTP requests of one Nest application. A request enters when
 * the HTTP server receives it, before the platform and every middleware,
 * guard, interceptor and pipe, so the trace times all of them; the route is
 * the one the platform matched, which already carries the global prefix,
 * `RouterModule` paths and the URI version.
 */
export class HttpRecorder {
  /** Requests enter through the server's `request` event (else through the first middleware). */
  private listening = false

  private constructor(
    private readonly runtime: TelemeterRuntime,
    private readonly adapter: HttpAdapterLike & { use(...args: unknown[]): unknown },
    private readonly routeOf: (state: RequestState) => string | undefined,
  ) {}

  /**
   * Install on the application's HTTP adapter: a `request` listener ahead of
   * the platform's on its HTTP server; on Express a middleware that starts the
   * record (and the request context) once Express prepared the request; on
   * Fastify an `onRequest` hook that does so with the routed `FastifyRequest`
   * (what runs after it, body parsing included, stays in the request's context).
   */
  static install(runtime: TelemeterRuntime, adapter: HttpAdapterLike | undefined): HttpRecorder | undefined {
    const telemeter = runtime.telemeter
    if (!adapter || typeof adapter.use !== 'function') {
      if (adapter)
        warnOnce(telemeter, 'nest:adapter', 'TelemeterModule: HTTP adapter without use(); not recorded')
      return undefined
    }
    const usable = adapter as HttpAdapterLike & { use(...args: unknown[]): unknown }
    const fastify = adapter.getType?.() === 'fastify' ? (adapter.getInstance?.() as FastifyLike) : undefined
    if (fastify && typeof fastify.addHook !== 'function') {
      warnOnce(telemeter, 'nest:fastify', 'TelemeterModule: Fastify instance without addHook(); not recorded')
      return undefined
    }
    const recorder = new HttpRecorder(runtime, usable, fastify ? fastifyRoute : expressRoute)
    const server = adapter.getHttpServer?.() as Partial<HttpServerLike> | undefined
    if (typeof server?.prependListener === 'function') {
      server.prependListener('request', (req, res) => recorder.enter(req, res))
      recorder.listening = true
    }
    if (fastify) {
      // Without the server's event, middie runs this before every Nest middleware.
      if (!recorder.listening)
        usable.use((req: IncomingMessage, res: ServerResponse, next: Next) => {
          recorder.enter(req, res)
          next()
        })
      fastify.addHook('onRequest', (request, _reply, done) => recorder.routed(request, done))
    } else {
      usable.use(recorder.expressMiddleware)
    }
    return recorder
  }

  /**
   * Called once the controllers' routes are registered and before Nest's
   * not-found handler is: on Express, a request that gets this far matched no
   * route. (Nest 12 answers it from a route of its own, `*path`, which is not
   * the request's route.) Fastify tells unmatched requests apart itself.
   */
  routesRegistered(): void {
    if (this.routeOf !== expressRoute) return
    this.adapter.use((req: IncomingMessage, _res: ServerResponse, next: Next) => {
      const state = stateOf(req)
      if (state) state.unmatched = true
      next()
    })
  }

  /** A request arrives: its clock starts and its response is watched. */
  private enter(req: IncomingMessage, res: ServerResponse): void {
    try {
      if (stateOf(req)) {
        debugWarnOnce(
          this.runtime.telemeter,
          'nest:twice',
          'TelemeterModule is imported twice; once is enough',
        )
        return
      }
      const state = new RequestState(this, req, res, countResponseBytes(res), performance.now(), Date.now())
      markRequest(state)
      res.on('close', onResponseClose)
    } catch (error) {
      this.internalError(error)
    }
  }

  /** Express: the request is Express's now; start its record and run the rest in its context. */
  private readonly expressMiddleware: Middleware = (req, res, next) => {
    let state: RequestState | undefined
    try {
      if (!this.listening) this.enter(req, res)
      state = stateOf(req)
      if (state?.recorder !== this || state.started || !this.start(state, req as unknown as TelemeterRequest))
        state = undefined
    } catch (error) {
      this.internalError(error)
      state = undefined
    }
    if (state) state.run(next)
    else next()
  }

  /** Fastify `onRequest`, after middie: the platform request exists and the route is matched. */
  private routed(request: FastifyRequestLike, done: Next): void {
    const state = stateOf(request.raw)
    if (state?.recorder !== this || state.started) return done()
    let started = false
    try {
      started = this.start(state, request)
    } catch (error) {
      this.internalError(error)
    }
    if (started) state.run(done)
    else done()
  }

  private start(state: RequestState, request: TelemeterRequest): boolean {
    state.started = true
    state.request = request
    state.record = this.runtime.http.start(request, state)
    return state.record !== undefined
  }

  /** The response is done, or its connection closed before it was. */
  finish(state: RequestState): void {
    if (state.finished) return
    state.finished = true
    try {
      // On Fastify, a Nest middleware may have answered before the request was routed.
      if (!state.started) this.start(state, state.raw as unknown as TelemeterRequest)
      const record = state.record
      if (!record) return
      const res = state.res
      const completed = res.writableFinished
      const status = completed || res.headersSent ? res.statusCode : CLIENT_CLOSED_STATUS
      const facts: HttpResponseFacts = {
        route: this.routeOf(state),
        status,
        requestBytes: contentLength(state.headers['content-length']) ?? 0,
        responseBytes: state.written.bytes,
        startedAtMs: state.enteredAtMs,
        responseTimeMs: performance.now() - state.enteredAt,
      }
      const error = state.takeError()
      // An error an interceptor recovered from (the request still succeeded) is not a crash.
      if (error !== NO_ERROR && (status >= 400 || !completed))
        this.runtime.http.captureError(record, error, state.request!, facts)
      this.runtime.http.finish(record, facts)
    } catch (error) {
      this.internalError(error)
    }
  }

  private internalError(error: unknown): void {
    warnOnce(
      this.runtime.telemeter,
      'nest:internal',
      `TelemeterModule failed internally (${(error as Error)?.message}); the request is not recorded`,
    )
  }
}
