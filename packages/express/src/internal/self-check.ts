import type { StackLayout } from './route-index.js'

export interface SelfCheckFinding {
  readonly cause: string
  readonly message: string
}

export const TWICE_CAUSE = 'express:middleware-twice'
export const TWICE_MESSAGE =
  'telemeterMiddleware is installed more than once on the path of a request; only the first one records it. Install it once, on the application, before the routes.'

/**
 * What is wrong with how the middleware and the error handler sit in the
 * application's stack, found from the layout on the first request. Only
 * reported with `debug` on.
 */
export function checkLayout(layouts: readonly StackLayout[]): SelfCheckFinding[] {
  const findings: SelfCheckFinding[] = []
  let middleware = 0
  let errorHandlers = 0
  for (const layout of layouts) {
    middleware += layout.middleware.length
    errorHandlers += layout.errorHandlers.length
    const firstHandler = layout.errorHandlers[0]
    if (firstHandler !== undefined && layout.routes.some((index) => index > firstHandler)) {
      findings.push({
        cause: 'express:error-handler-early',
        message:
          'telemeterErrorHandler is placed before routes: errors of the routes after it never reach it. Add app.use(telemeterErrorHandler(telemeter)) after all routes.',
      })
    }
    const firstMiddleware = layout.middleware[0]
    if (firstMiddleware !== undefined && layout.routes.some((index) => index < firstMiddleware)) {
      findings.push({
        cause: 'express:middleware-late',
        message:
          'telemeterMiddleware is placed after some routes: requests they answer are not recorded. Add app.use(telemeterMiddleware(telemeter)) before the routes.',
      })
    }
  }
  if (middleware > 1) findings.push({ cause: TWICE_CAUSE, message: TWICE_MESSAGE })
  if (errorHandlers === 0) {
    findings.push({
      cause: 'express:no-error-handler',
      message:
        'telemeterErrorHandler is not installed: errors are reported only as 5xx crashes without their stack. Add app.use(telemeterErrorHandler(telemeter)) after all routes.',
    })
  }
  return findings
}
