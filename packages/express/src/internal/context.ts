import type { ServerResponse } from 'node:http'
import {
  createHttpInstrumentation,
  type DeviceScope,
  debugWarnOnce,
  errorStatus,
  type HttpInstrumentation,
  type HttpInstrumentationOptions,
  type Telemeter,
  warnOnce,
} from '@telemeter/core'
import {
  attach,
  Exchange,
  type ExchangeOwner,
  type ExpressRequest,
  type ExpressResponse,
  measure,
  passThrough,
} from './exchange.js'
import { RouteIndex } from './route-index.js'
import { checkLayout, TWICE_CAUSE, TWICE_MESSAGE } from './self-check.js'

/**
 * Everything one `telemeterMiddleware(...)` call owns: core's HTTP
 * instrumentation with the user's options, and the route templates of the
 * applications it serves.
 */
export class ExpressContext implements ExchangeOwner {
  readonly routes = new RouteIndex()
  private lastApp: unknown = undefined

  constructor(
    readonly telemeter: Telemeter,
    readonly http: HttpInstrumentation<ExpressRequest>,
    private readonly selfCheck: boolean,
  ) {}

  static create(
    telemeter: Telemeter,
    options: HttpInstrumentationOptions<never> | undefined,
    selfCheck: boolean,
  ): ExpressContext {
    const http = createHttpInstrumentation<ExpressRequest>(
      telemeter,
      options as HttpInstrumentationOptions<ExpressRequest> | undefined,
    )
    return new ExpressContext(telemeter, http, selfCheck)
  }

  /** Start recording a request; returns its scope, or undefined to let it pass untouched. */
  begin(req: ExpressRequest, res: ExpressResponse): DeviceScope | undefined {
    const app = req.app
    if (app !== this.lastApp) this.observe(app)
    const exchange = new Exchange(this, req, res)
    const record = this.http.start(req, exchange)
    if (record === undefined) {
      passThrough(res)
      req.telemeter = this.telemeter
      return undefined
    }
    exchange.record = record
    attach(exchange)
    req.telemeter = record.scope
    return record.scope
  }

  /** A second middleware on the path of a request that is already recorded (or ignored). */
  nested(): void {
    debugWarnOnce(this.telemeter, TWICE_CAUSE, TWICE_MESSAGE)
  }

  private observe(app: unknown): void {
    this.lastApp = app
    const layouts = this.routes.observe(app)
    if (!layouts || !this.selfCheck) return
    for (const finding of checkLayout(layouts)) debugWarnOnce(this.telemeter, finding.cause, finding.message)
  }

  complete(exchange: Exchange, aborted: boolean): void {
    try {
      const record = exchange.record
      if (record === undefined) return
      measure(exchange, aborted)
      exchange.route = this.routes.template(exchange, exchange.req)
      if (exchange.hasError) this.http.captureError(record, exchange.error, exchange.req, exchange)
      this.http.finish(record, exchange)
    } catch (error) {
      this.internalError(error)
    }
  }

  /**
   * An error reached `telemeterErrorHandler`. It becomes a crash when the
   * response is done, with the status actually sent; an error arriving after
   * that is reported at once.
   */
  recordError(exchange: Exchange, error: unknown): void {
    if (exchange.hasError) return
    exchange.hasError = true
    exchange.error = error
    const record = exchange.record
    if (exchange.done && record) this.http.captureError(record, error, exchange.req, exchange)
  }

  /** An error of a request no middleware recorded: report the crash alone. */
  orphanError(error: unknown, req: ExpressRequest, res: ServerResponse): void {
    debugWarnOnce(
      this.telemeter,
      'express:no-middleware',
      'telemeterErrorHandler saw a request telemeterMiddleware did not record: only its error is reported. Add app.use(telemeterMiddleware(telemeter)) before the routes.',
    )
    this.routes.observe(req.app)
    const exchange = new Exchange(this, req, res)
    const record = this.http.start(req, exchange)
    if (record === undefined) return
    exchange.route = this.routes.template(exchange, req)
    exchange.status = errorStatus(error) ?? 500
    this.http.captureError(record, error, req, exchange)
  }

  internalError(error: unknown): void {
    warnOnce(
      this.telemeter,
      'express:internal',
      `@telemeter/express failed internally (${(error as Error)?.message}); the request was not recorded`,
    )
  }
}
