import type { Telemeter } from '@telemeter/core'
import type { TelemeterErrorHandler } from '../types.js'
import { ExpressContext } from './context.js'
import { Exchange, type ExpressRequest, type ExpressResponse } from './exchange.js'
import { ERROR_HANDLER_MARK, STATE } from './request-state.js'

/**
 * Express error middleware reporting what routes throw or pass to
 * `next(error)` (sync or async on Express 5; on Express 4 an `async` handler
 * must call `next(error)` itself) as one crash per error, with `method`,
 * `route` and `status` as segmentation. Errors with a status below 500 are
 * not crashes unless `shouldCaptureError` says so. The error is passed on
 * unchanged with `next(error)`, so the app's own error handlers and Express's
 * default one answer as before.
 *
 * Install it after all routes (and before your own error handlers).
 *
 * @param telemeter - the instance given to `telemeterMiddleware`
 * @default behaviour: options (`shouldCaptureError`) are those of the `telemeterMiddleware` that recorded the request
 * @example
 * ```ts
 * app.use(telemeterMiddleware(telemeter))
 * app.get('/users/:id', getUser)
 * app.use(telemeterErrorHandler(telemeter))
 * app.use((err, req, res, next) => res.status(500).json({ error: 'internal' }))
 * ```
 */
export function telemeterErrorHandler(telemeter: Telemeter): TelemeterErrorHandler {
  let orphans: ExpressContext | undefined
  const handler = function telemeterErrorHandler(
    error: unknown,
    req: ExpressRequest,
    res: ExpressResponse,
    next: (error?: unknown) => void,
  ): void {
    try {
      const state = res[STATE]
      if (state instanceof Exchange) {
        const owner = state.owner
        if (owner instanceof ExpressContext) owner.recordError(state, error)
      } else if (state === undefined) {
        orphans ??= ExpressContext.create(telemeter, undefined, false)
        orphans.orphanError(error, req, res)
      }
    } catch {
      // Never let recording an error turn into another one; the error goes on regardless.
    }
    next(error)
  }
  Object.defineProperty(handler, ERROR_HANDLER_MARK, { value: true })
  return handler as unknown as TelemeterErrorHandler
}
