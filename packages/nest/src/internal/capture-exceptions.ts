import { type Method, replaceMethod } from './method.js'
import { noteException } from './request-state.js'

/**
 * Decorate the `catch()` of your own catch-all exception filter (one bound
 * with `app.useGlobalFilters()` or `@UseFilters()`): the exceptions it catches
 * during a request are handed to Telemeter before it answers, so a server
 * error is reported with its own name and stack instead of as the 5xx status
 * the filter answers. Classification is unchanged (an `HttpException` below
 * 500 is not a crash) and so is the filter's answer. Filters provided with
 * `APP_FILTER` in the root module do not need it.
 *
 * @default nothing is captured from a filter without it; Telemeter still sees the status it answers
 *
 * @example
 * ```ts
 * @Catch()
 * export class AllExceptionsFilter implements ExceptionFilter {
 *   @CaptureExceptions()
 *   catch(exception: unknown, host: ArgumentsHost) {
 *     // ... answer as before
 *   }
 * }
 * ```
 */
export function CaptureExceptions(): MethodDecorator {
  return (_target, _propertyKey, descriptor) => {
    const original = descriptor.value as unknown
    if (typeof original !== 'function') return descriptor
    const method = original as Method
    const capturing = function (this: unknown, ...args: unknown[]): unknown {
      noteException(args[0])
      return method.apply(this, args)
    }
    replaceMethod(descriptor, method, capturing)
    return descriptor
  }
}
