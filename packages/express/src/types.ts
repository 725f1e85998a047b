/**
 * Public types of `@telemeter/express`. Express's own types are not used:
 * the handlers are typed on Node's `IncomingMessage` / `ServerResponse`,
 * which Express 4 and 5 requests and responses extend, so they fit
 * `app.use()` with or without `@types/express`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { DeviceScope, HttpInstrumentationOptions } from '@telemeter/core'

declare global {
  // Express's own extension point (`@types/express` merges `Express.Request`
  // into its `Request`): a global namespace, so the same declaration serves
  // CommonJS and ES module consumers alike.
  namespace Express {
    interface Request {
      /**
       * The request's device scope, set by `telemeterMiddleware`: events,
       * errors and traces recorded on it belong to the request's device.
       * For ignored requests it is the Telemeter itself.
       *
       * @example
       * ```ts
       * app.post('/checkout', (req, res) => {
       *   req.telemeter.event('checkout', { sum: req.body.total })
       *   res.sendStatus(204)
       * })
       * ```
       */
      telemeter: DeviceScope
    }
  }
}

/**
 * A request as the option hooks receive it: Node's request plus whatever
 * the app declared on `Express.Request` (`user` from Passport, say). Pass
 * your own type to get more: `telemeterMiddleware<Request>(telemeter, ...)`.
 *
 * @default the request type of {@link TelemeterExpressOptions} when none is given
 * @example
 * ```ts
 * const isSynthetic = (req: TelemeterRequest) => req.headers['x-synthetic'] === '1'
 * app.use(telemeterMiddleware(telemeter, { ignore: [isSynthetic] }))
 * ```
 */
export type TelemeterRequest = IncomingMessage & Express.Request

/**
 * Options of {@link telemeterMiddleware}: the options every Telemeter HTTP
 * adapter shares (device mapping, sessions, ignore rules, sampling, crash
 * filter, IP tracking).
 *
 * | option | default |
 * |---|---|
 * | `deviceId(req)` | then `req.user.id` / `req.user._id`, then the `x-device-id` header, else the Telemeter's own device |
 * | `deviceIdHeader` | `'x-device-id'` |
 * | `sessions` | `true` |
 * | `sessionIdleMs` | `1_800_000` (30 minutes) |
 * | `ignore` | `[]`, plus health, readiness, metrics, favicon and OPTIONS |
 * | `ignoreDefaults` | `true` |
 * | `sampleRate` | `1` |
 * | `sampler(req)` | none |
 * | `shouldCaptureError(error, req)` | only errors without a status below 500 |
 * | `trackIp` | `false` |
 *
 * @default `{}`: every default above
 * @example
 * ```ts
 * const options: TelemeterExpressOptions<Request> = {
 *   deviceId: (req) => req.get('x-customer-id'),
 *   ignore: ['/internal/*'],
 *   sampleRate: 0.25,
 * }
 * ```
 */
export type TelemeterExpressOptions<Req extends IncomingMessage = TelemeterRequest> =
  HttpInstrumentationOptions<Req>

/**
 * Express's `next`: called with nothing to continue, with an error to fail.
 *
 * @default the `next` Express passes to every middleware
 * @example
 * ```ts
 * const forward: NextFunctionLike = (error) => console.log(error === undefined ? 'continue' : 'fail')
 * ```
 */
export type NextFunctionLike = (error?: unknown) => void

/**
 * The request middleware returned by {@link telemeterMiddleware}.
 *
 * @default created by `telemeterMiddleware(telemeter, options)`
 * @example
 * ```ts
 * const middleware: TelemeterMiddleware = telemeterMiddleware(telemeter)
 * app.use(middleware)
 * ```
 */
export type TelemeterMiddleware = (req: IncomingMessage, res: ServerResponse, next: NextFunctionLike) => void

/**
 * The error middleware returned by {@link telemeterErrorHandler}. It records
 * the error and passes it on with `next(error)`, unchanged.
 *
 * @default created by `telemeterErrorHandler(telemeter)`
 * @example
 * ```ts
 * const onError: TelemeterErrorHandler = telemeterErrorHandler(telemeter)
 * app.use(onError)
 * ```
 */
export type TelemeterErrorHandler = (
  error: unknown,
  req: IncomingMessage,
  res: ServerResponse,
  next: NextFunctionLike,
) => void
