import { ConfigurableModuleBuilder, Inject, Module } from '@nestjs/common'
import { APP_FILTER, APP_INTERCEPTOR, HttpAdapterHost } from '@nestjs/core'
import type { TelemeterModuleExtras, TelemeterModuleOptions } from '../types.js'
import { TelemeterExceptionObserver } from './exception-observer.js'
import { TelemeterInterceptor } from './interceptor.js'
import { type HttpAdapterLike, HttpRecorder } from './recorder.js'
import { createRuntime, TELEMETER, TELEMETER_RUNTIME, type TelemeterRuntime } from './runtime.js'
import { TelemeterService } from './service.js'

const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } =
  new ConfigurableModuleBuilder<TelemeterModuleOptions>({ moduleName: 'Telemeter' })
    .setClassMethodName('forRoot')
    .setExtras<TelemeterModuleExtras>({ isGlobal: true, traceNonHttp: false }, (definition, extras) => ({
      ...definition,
      global: extras.isGlobal !== false,
      providers: [
        ...(definition.providers ?? []),
        ...(extras.traceNonHttp === true
          ? [{ provide: APP_INTERCEPTOR, useClass: TelemeterInterceptor }]
          : []),
      ],
    }))
    .build()

/**
 * Instruments a whole Nest application (Express or Fastify, NestJS 11 or 12)
 * with one import: a `network` APM trace per request named after its route
 * template (`GET /api/v1/users/:id`, timed from when the server received it,
 * middleware and guards included), crash reports for server errors thrown anywhere in the request
 * (your exception filters still answer, unchanged), per-device sessions,
 * `TelemeterService` and `@InjectTelemeter()`; with `traceNonHttp: true`, a
 * custom trace per microservice / WebSocket / GraphQL handler call. Call `app.enableShutdownHooks()`
 * so a Telemeter the module created is flushed on SIGTERM.
 *
 * @default isGlobal true, traceNonHttp false; HTTP options as in `@telemeter/express`
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     TelemeterModule.forRoot({
 *       url: 'https://countly.example.com',
 *       appKey: process.env.COUNTLY_APP_KEY!,
 *       deviceId: (req) => (req.user as { id?: string } | undefined)?.id,
 *     }),
 *   ],
 * })
 * export class AppModule {}
 * ```
 */
export class TelemeterModule extends ConfigurableModuleClass {
  private recorder: HttpRecorder | undefined

  constructor(
    private readonly runtime: TelemeterRuntime,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    super()
  }

  /**
   * Nest calls this while it collects middleware, before it registers any:
   * what is installed here runs before all of them (and before routing, so
   * unmatched requests are recorded too).
   */
  configure(): void {
    this.recorder = HttpRecorder.install(
      this.runtime,
      this.adapterHost?.httpAdapter as HttpAdapterLike | undefined,
    )
  }

  /** Nest calls this after it registered the routes and before its not-found handler. */
  onModuleInit(): void {
    this.recorder?.routesRegistered()
  }

  /** Deliver what is queued and stop, within `shutdownTimeoutMs`, when the module created the Telemeter. */
  async onApplicationShutdown(): Promise<void> {
    if (this.runtime.owned)
      await this.runtime.telemeter.shutdown({ timeoutMs: this.runtime.shutdownTimeoutMs })
  }
}

Module({
  providers: [
    { provide: TELEMETER_RUNTIME, useFactory: createRuntime, inject: [MODULE_OPTIONS_TOKEN] },
    {
      provide: TELEMETER,
      useFactory: (runtime: TelemeterRuntime) => runtime.telemeter,
      inject: [TELEMETER_RUNTIME],
    },
    TelemeterService,
    { provide: APP_FILTER, useClass: TelemeterExceptionObserver },
  ],
  exports: [TELEMETER, TelemeterService],
})(TelemeterModule)
Inject(TELEMETER_RUNTIME)(TelemeterModule, undefined, 0)
Inject(HttpAdapterHost)(TelemeterModule, undefined, 1)
