import type { IncomingMessage } from 'node:http'
import { type DeviceScope, runWithScope, type Telemeter } from '@telemeter/core'
import type { TelemeterExpressOptions, TelemeterMiddleware, TelemeterRequest } from '../types.js'
import { ExpressContext } from './context.js'
import type { ExpressRequest, ExpressResponse } from './exchange.js'
import { MIDDLEWARE_MARK, STATE } from './request-state.js'

function passThroughMiddleware(reason: string): TelemeterMiddleware {
  try {
    console.warn(`[telemeter] telemeterMiddleware is disabled: ${reason}`)
  } catch {
    // nothing to do: a broken console must not break the host
  }
  return (_req, _res, next) => next()
}

/**
 * Express 4/5 middleware recording every request: one `network` APM trace
 * named after the full route template (`GET /api/:version/users/:id`,
 * never the URL), with response time, status and payload sizes; a crash for
 * every 5xx; the request's device (and its session). `req.telemeter` and
 * `currentScope()` give handlers the request's device scope.
 *
 * Install it before the routes, and {@link telemeterErrorHandler} after them.
 *
 * @param telemeter - the instance from `createTelemeter()`
 * @param options - device mapping, sessions, ignore rules, sampling, crash filter; see {@link TelemeterExpressOptions}
 * @default options: every request traced, health/metrics/favicon/OPTIONS ignored, sessions on, no IP
 * @example
 * ```ts
 * import { createTelemeter } from '@telemeter/core'
 * import { telemeterErrorHandler, telemeterMiddleware } from '@telemeter/express'
 *
 * const telemeter = createTelemeter({ url: 'https://countly.example.com', appKey: 'APP_KEY' })
 * app.use(telemeterMiddleware(telemeter, { deviceId: (req) => req.user?.id }))
 * app.use('/api', apiRouter)
 * app.use(telemeterErrorHandler(telemeter))
 * ```
 */
export function telemeterMiddleware<Req extends IncomingMessage = TelemeterRequest>(
  telemeter: Telemeter,
  options?: TelemeterExpressOptions<Req>,
): TelemeterMiddleware {
  let context: ExpressContext
  try {
    context = ExpressContext.create(telemeter, options as TelemeterExpressOptions<never>, true)
  } catch (error) {
    return passThroughMiddleware((error as Error)?.message ?? String(error))
  }
  const middleware = function telemeterMiddleware(
    req: ExpressRequest,
    res: ExpressResponse,
    next: () => void,
  ): void {
    if (res[STATE] !== undefined) {
      context.nested()
      return next()
    }
    let scope: DeviceScope | undefined
    try {
      scope = context.begin(req, res)
    } catch (error) {
      context.internalError(error)
    }
    if (scope === undefined) return next()
    runWithScope(scope, next)
  }
  Object.defineProperty(middleware, MIDDLEWARE_MARK, { value: true })
  return middleware as unknown as TelemeterMiddleware
}
