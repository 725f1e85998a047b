import {
  createHttpInstrumentation,
  debugWarnOnce,
  type HttpInstrumentation,
  runWithScope,
  type Telemeter,
  warnOnce,
} from '@telemeter/core'
import type { Context, Middleware, Next } from 'koa'
import type { TelemeterKoaOptions } from '../types.js'
import { KoaRequest } from './request.js'

function passThrough(reason: string): Middleware {
  try {
    console.warn(`[telemeter] telemeterKoa is disabled: ${reason}`)
  } catch {
    // a broken console must not break the host
  }
  return (_ctx, next) => next()
}

/**
 * Koa middleware that records every request: one `network` APM trace named
 * `<METHOD> <route template>` (from `@koa/router`, prefixes and nested routers
 * included; `<METHOD> unknown route` when nothing matched) with the response
 * time, status and payload sizes; thrown errors and 5xx responses as crash
 * reports; and the request's device, reachable as `ctx.state.telemeter` and
 * through `currentScope()` anywhere downstream. Errors are rethrown untouched,
 * so Koa's error handling and the statuses it answers do not change.
 *
 * Install it first, so it times the whole chain and sees every error.
 *
 * @param telemeter - the instance from `createTelemeter()`
 * @param options - device mapping, sessions, ignore rules, sampling, crash filter; see {@link TelemeterKoaOptions}
 * @default options: every request traced, health/metrics/favicon/OPTIONS ignored, sessions on, no IP
 * @example
 * ```ts
 * import Koa from 'koa'
 * import Router from '@koa/router'
 * import { createTelemeter } from '@telemeter/core'
 * import { telemeterKoa } from '@telemeter/koa'
 *
 * const telemeter = createTelemeter({ url: 'https://countly.example.com', appKey: 'APP_KEY' })
 * const app = new Koa()
 * app.use(telemeterKoa(telemeter, { deviceId: (ctx) => ctx.state.user?.id }))
 * app.use(router.routes())
 * ```
 */
export function telemeterKoa(telemeter: Telemeter, options?: TelemeterKoaOptions): Middleware {
  let http: HttpInstrumentation<Context>
  try {
    http = createHttpInstrumentation<Context>(telemeter, options)
  } catch (error) {
    return passThrough((error as Error)?.message ?? String(error))
  }

  return async function telemeterKoaMiddleware(ctx: Context, next: Next): Promise<void> {
    if (ctx.state.telemeter !== undefined) {
      // A second telemeterKoa on the way (twice in app.use, or in a mounted app): the first records.
      debugWarnOnce(
        telemeter,
        'koa:twice',
        'telemeterKoa runs twice for a request; only the first records it',
      )
      return next()
    }
    let request: KoaRequest | undefined
    try {
      request = new KoaRequest(telemeter, http, ctx)
      const record = http.start(ctx, request)
      if (record === undefined) {
        request = undefined
        // Ignored (a health check, say): handlers still get a scope to record on.
        ctx.state.telemeter = telemeter
      } else {
        request.begin(record)
        ctx.state.telemeter = record.scope
      }
    } catch (error) {
      request = undefined
      warnOnce(
        telemeter,
        'koa:internal',
        `@telemeter/koa failed internally (${(error as Error)?.message}); a request was not recorded`,
      )
    }
    if (request?.record === undefined) return next()
    try {
      await runWithScope(request.record.scope, next)
    } catch (error) {
      request.failed(error)
      throw error
    }
    request.returned()
  }
}
