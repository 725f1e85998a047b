import { AsyncLocalStorage } from 'node:async_hooks'
import type { DeviceScope } from '../types.js'

const storage = new AsyncLocalStorage<DeviceScope>()

/**
 * The `DeviceScope` of the request being handled, inside an adapter's
 * request (Express, Koa, Nest); `undefined` elsewhere.
 *
 * @example
 * ```ts
 * import { currentScope } from '@telemeter/core'
 * export async function chargeCard(amount: number) {
 *   currentScope()?.event('charge', { sum: amount })
 * }
 * ```
 */
export function currentScope(): DeviceScope | undefined {
  return storage.getStore()
}

/**
 * Run `fn` with `scope` as the current scope for everything it starts,
 * synchronously or asynchronously. For adapter authors; uses
 * `AsyncLocalStorage.run`, so nothing leaks into other requests.
 *
 * @example
 * ```ts
 * runWithScope(telemeter.forDevice(userId), () => next())
 * ```
 */
export function runWithScope<T>(scope: DeviceScope, fn: () => T): T {
  return storage.run(scope, fn)
}
