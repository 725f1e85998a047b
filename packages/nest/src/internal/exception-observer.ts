import { Catch, Inject } from '@nestjs/common'
import { BaseExceptionFilter, HttpAdapterHost } from '@nestjs/core'
import { throwError } from 'rxjs'
import { noteException } from './request-state.js'

interface ArgumentsHostLike {
  getType(): string
}

/**
 * The exception type the observer declares with `@Catch()`. Nest picks the
 * filter of an exception by asking `exception instanceof <type>` of each
 * filter in turn; this type notes the exception for the request being handled
 * and answers "no", so the search goes on to the application's own filters
 * (or Nest's built-in answer) exactly as it would without it.
 */
// biome-ignore lint/complexity/noStaticOnlyClass: @Catch() takes a class; only its instanceof answer matters
class ObservedException {
  static [Symbol.hasInstance](exception: unknown): boolean {
    noteException(exception)
    return false
  }
}

/**
 * Registered as a global filter, it handles nothing: it sees what middleware,
 * guards, interceptors, pipes and handlers throw whenever Nest consults it.
 * Filters provided as `APP_FILTER` in the root module are consulted after it;
 * filters bound with `@UseFilters()` or `app.useGlobalFilters()` before it: an
 * exception one of those catches is known from the status it answers, or
 * through `@CaptureExceptions()` on its `catch()`.
 */
export class TelemeterExceptionObserver {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /** Never chosen (see ObservedException); answers like Nest's own fallback should that change. */
  catch(exception: unknown, host: ArgumentsHostLike): unknown {
    if (host.getType() === 'http')
      return new BaseExceptionFilter(this.adapterHost.httpAdapter).catch(exception, host as never)
    return throwError(() => exception)
  }
}

Catch(ObservedException)(TelemeterExceptionObserver)
Inject(HttpAdapterHost)(TelemeterExceptionObserver, undefined, 0)
