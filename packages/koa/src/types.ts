/**
 * Public types of `@telemeter/koa`.
 */
import type { DeviceScope, HttpInstrumentationOptions } from '@telemeter/core'
import type { Context } from 'koa'

/**
 * Options of {@link telemeterKoa}: the options every Telemeter HTTP adapter
 * shares, with Koa's `ctx` as the request.
 *
 * @example
 * ```ts
 * const options: TelemeterKoaOptions = {
 *   deviceId: (ctx) => ctx.state.user?.accountId,
 *   ignore: ['/internal/*'],
 *   sampleRate: 0.5,
 * }
 * app.use(telemeterKoa(telemeter, options))
 * ```
 */
export interface TelemeterKoaOptions extends HttpInstrumentationOptions<Context> {}

/**
 * What `telemeterKoa` adds to `ctx.state`. Koa's `DefaultState` already
 * includes it; intersect it into your own state type when you declare one.
 *
 * @example
 * ```ts
 * const app = new Koa<AppState & TelemeterState>()
 * router.get('/cart', (ctx) => ctx.state.telemeter?.event('cart_viewed'))
 * ```
 */
export interface TelemeterState {
  /**
   * The request's device scope, set by `telemeterKoa`: events, errors and
   * traces recorded on it belong to the device of `deviceId(ctx)`,
   * `ctx.state.user`, the `x-device-id` header, else the Telemeter's own.
   * The device is resolved on first use, so authentication running after
   * `telemeterKoa` counts. For ignored requests it is the Telemeter itself.
   * Optional in the type because every Koa app's state has it.
   * @default undefined (before telemeterKoa ran)
   */
  telemeter?: DeviceScope
}

declare module 'koa' {
  interface DefaultState extends TelemeterState {}
}
