import { Inject, Injectable } from '@nestjs/common'
import { currentScope, type TraceHandle, warnOnce } from '@telemeter/core'
import type { Observable } from 'rxjs'
import { finalize } from 'rxjs/operators'
import { type ContextLike, traceKeyOf } from './handler-name.js'
import { TELEMETER_RUNTIME, type TelemeterRuntime } from './runtime.js'

interface CallHandlerLike {
  handle(): Observable<unknown>
}

/**
 * Registered as a global interceptor with `traceNonHttp: true`: around
 * microservice, WebSocket and GraphQL handlers it records a custom trace;
 * results and errors pass through untouched. HTTP requests are recorded
 * without it. It is not registered by default: with any global interceptor,
 * Nest runs its interceptor pipeline for every HTTP request too.
 */
export class TelemeterInterceptor {
  constructor(private readonly runtime: TelemeterRuntime) {}

  intercept(context: ContextLike, next: CallHandlerLike): Observable<unknown> {
    let trace: TraceHandle | undefined
    try {
      const type = context.getType()
      if (type !== 'http') trace = this.startTrace(type, context)
    } catch (error) {
      warnOnce(
        this.runtime.telemeter,
        'nest:interceptor',
        `TelemeterInterceptor could not name a handler (${(error as Error)?.message}); not traced`,
      )
    }
    if (!trace) return next.handle()
    const running = trace
    return next.handle().pipe(finalize(() => running.end()))
  }

  private startTrace(type: string, context: ContextLike): TraceHandle | undefined {
    const key = traceKeyOf(type, context)
    if (!key) return undefined
    return (currentScope() ?? this.runtime.telemeter).startTrace(key)
  }
}

Injectable()(TelemeterInterceptor)
Inject(TELEMETER_RUNTIME)(TelemeterInterceptor, undefined, 0)
