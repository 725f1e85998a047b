export { telemeterErrorHandler } from './internal/error-handler.js'
export { telemeterMiddleware } from './internal/middleware.js'
export type {
  NextFunctionLike,
  TelemeterErrorHandler,
  TelemeterExpressOptions,
  TelemeterMiddleware,
  TelemeterRequest,
} from './types.js'
