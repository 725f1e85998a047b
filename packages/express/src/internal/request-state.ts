/** Where a request's Telemeter state hangs on `req` and `res` (a symbol: invisible to the app). */
export const STATE: unique symbol = Symbol('telemeter.express')

/** Marks the functions this package hands out, so the self-check can find them in the app's stack. */
export const MIDDLEWARE_MARK: unique symbol = Symbol('telemeter.express.middleware')
export const ERROR_HANDLER_MARK: unique symbol = Symbol('telemeter.express.errorHandler')

/**
 * What a route layer records when Express dispatches to it: the route and
 * the concrete base URL at that moment. Both are needed later, and Express
 * restores `req.baseUrl` when an error leaves a mounted router.
 */
export interface RouteCapture {
  matchedRoute: object | undefined
  matchedBaseUrl: string | undefined
}

/** A request handled by another, outer Telemeter middleware, or ignored. */
export const PASS_THROUGH: RouteCapture = Object.freeze({
  matchedRoute: undefined,
  matchedBaseUrl: undefined,
}) as RouteCapture
