/**
 * Public types of `@telemeter/nest`. No NestJS or platform type appears
 * here: requests are described by the few fields Telemeter reads.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { HttpInstrumentationOptions, Telemeter, TelemeterConfig } from '@telemeter/core'

/**
 * The request your hooks receive: the object `@Req()` gives a handler, an
 * Express `Request` or a `FastifyRequest` (cast it to yours). On Fastify, a
 * request that a Nest middleware answered before routing is its Node.js
 * `IncomingMessage`.
 *
 * @example
 * ```ts
 * const deviceId = (req: TelemeterRequest) => (req as Request & { user?: User }).user?.accountId
 * ```
 */
export interface TelemeterRequest {
  readonly method?: string
  readonly url?: string
  readonly headers: IncomingHttpHeaders
  /** What authentication (a guard, passport) set. */
  readonly user?: unknown
  readonly [key: string]: unknown
}

/**
 * Maps a request to the device it reports as.
 * @example (req) => (req.user as { id?: string } | undefined)?.id
 */
export type TelemeterDeviceIdHook = (req: TelemeterRequest) => string | number | null | undefined

/** Options every `forRoot` form shares: the HTTP options of the Express and Koa adapters, and the module's own. */
export interface TelemeterModuleSharedOptions
  extends Omit<HttpInstrumentationOptions<TelemeterRequest>, 'deviceId' | 'sessions'> {
  /**
   * How long `onApplicationShutdown` may spend delivering what is queued
   * (only when the module created the Telemeter).
   * @default 2_000
   */
  shutdownTimeoutMs?: number
}

/**
 * Extra options of `forRoot()` / `forRootAsync()` themselves (not of the factory).
 * @example TelemeterModule.forRoot({ url, appKey, isGlobal: false, traceNonHttp: true })
 */
export interface TelemeterModuleExtras {
  /** Make `TelemeterService` and `@InjectTelemeter()` available in every module. @default true */
  isGlobal?: boolean
  /**
   * Record a custom trace per microservice message, WebSocket message and
   * GraphQL resolver call, named after its pattern or handler
   * (`rpc_user_created`, `ws_chat_message`, `gql_Query_users`). This installs
   * a global interceptor, and with one Nest runs its interceptor pipeline for
   * every HTTP request too (see the README for what that costs).
   * @default false
   */
  traceNonHttp?: boolean
}

/**
 * `forRoot` options that create the Telemeter: core's configuration plus the
 * HTTP options. Two keys exist in both and are told apart by type:
 * `deviceId` is the process's own device id as a string, or the request
 * mapping as a function; `sessions` is the process's session mode as
 * `'auto'`/`'manual'`, or per-device request sessions as a boolean.
 *
 * @example
 * ```ts
 * TelemeterModule.forRoot({
 *   url: 'https://countly.example.com',
 *   appKey: 'APP_KEY',
 *   deviceId: (req) => (req.user as { id?: string } | undefined)?.id,
 *   ignore: ['/internal/*'],
 * })
 * ```
 */
export interface TelemeterModuleConfigOptions
  extends Omit<TelemeterConfig, 'deviceId' | 'sessions'>,
    TelemeterModuleSharedOptions {
  /**
   * A function maps each request to its device (then `req.user.id` /
   * `req.user._id`, then the `x-device-id` header, else the process's own
   * device); a string is the process's own device id.
   * @default undefined
   */
  deviceId?: string | TelemeterDeviceIdHook
  /**
   * A boolean switches per-device request sessions (default `true`); `'auto'`
   * or `'manual'` is the process's own session mode (default `'auto'`).
   * @default true and 'auto'
   */
  sessions?: boolean | 'auto' | 'manual'
  telemeter?: undefined
}

/**
 * `forRoot` options for a Telemeter you created yourself: the module records
 * through it and leaves its lifecycle (`shutdown()`) to you.
 *
 * @example
 * ```ts
 * const telemeter = createTelemeter({ url, appKey })
 * TelemeterModule.forRoot({ telemeter, sampleRate: 0.25 })
 * ```
 */
export interface TelemeterModuleInstanceOptions extends TelemeterModuleSharedOptions {
  telemeter: Telemeter
  /** Device of a request (then `req.user.id` / `_id`, then `x-device-id`, else the instance's own). @default undefined */
  deviceId?: TelemeterDeviceIdHook
  /** Per-device request sessions. @default true */
  sessions?: boolean
}

/**
 * Options of `TelemeterModule.forRoot()` and of the factory of `forRootAsync()`.
 *
 * @example
 * ```ts
 * TelemeterModule.forRootAsync({
 *   imports: [ConfigModule],
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService): TelemeterModuleOptions => ({
 *     url: config.getOrThrow('COUNTLY_URL'),
 *     appKey: config.getOrThrow('COUNTLY_APP_KEY'),
 *   }),
 * })
 * ```
 */
export type TelemeterModuleOptions = TelemeterModuleConfigOptions | TelemeterModuleInstanceOptions
