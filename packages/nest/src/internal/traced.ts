import { Inject, Optional } from '@nestjs/common'
import { currentScope, type DeviceScope, type Telemeter, toApmKey, warnOnce } from '@telemeter/core'
import { isObservable } from 'rxjs'
import { finalize } from 'rxjs/operators'
import { type Method, replaceMethod } from './method.js'
import { TELEMETER } from './runtime.js'

/** Where Nest injects the Telemeter into instances of classes with a `@Traced()` method. */
const TELEMETER_PROPERTY: unique symbol = Symbol('@telemeter/nest traced')

type WithTelemeter = { [TELEMETER_PROPERTY]?: Telemeter }

const wired = new WeakSet<object>()

function wireTelemeter(prototype: object): void {
  const owner = (prototype as { constructor?: unknown }).constructor
  if (typeof owner !== 'function' || wired.has(owner)) return
  wired.add(owner)
  // Optional: a class outside the module's reach still resolves; it then traces only inside requests.
  Optional()(prototype, TELEMETER_PROPERTY)
  Inject(TELEMETER)(prototype, TELEMETER_PROPERTY)
}

function endOnce(trace: { end(): void }): () => void {
  let ended = false
  return () => {
    if (ended) return
    ended = true
    trace.end()
  }
}

/**
 * Report every call of the decorated method as a custom APM trace with its
 * duration: until the returned promise settles for async methods, until the
 * returned Observable completes, errors or is unsubscribed, else until the
 * method returns. Errors still propagate unchanged. The trace belongs to the
 * request's device inside a request, else to the instance's own.
 *
 * @param name - trace key (`^[a-zA-Z][a-zA-Z0-9_]*$`, at most 32 characters;
 * anything else is made one, with a warning).
 * @default name `<ClassName>_<methodName>`
 *
 * @example
 * ```ts
 * @Injectable()
 * export class ReportsService {
 *   @Traced('build_report')
 *   async build(id: string) {
 *     return this.renderer.render(await this.repository.load(id))
 *   }
 * }
 * ```
 */
export function Traced(name?: string): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    const original = descriptor.value as unknown
    if (typeof original !== 'function') return descriptor
    const owner = typeof target === 'function' ? target.name : (target.constructor?.name ?? '')
    const wanted = name ?? `${owner}_${String(propertyKey)}`
    const key = toApmKey(wanted)
    if (typeof target !== 'function') wireTelemeter(target)

    const method = original as Method
    const traced = function (this: unknown, ...args: unknown[]): unknown {
      const telemeter = (this as WithTelemeter | undefined)?.[TELEMETER_PROPERTY]
      const scope: DeviceScope | undefined = currentScope() ?? telemeter
      if (!scope) return method.apply(this, args)
      if (key !== wanted && telemeter)
        warnOnce(
          telemeter,
          `nest:traced:${wanted}`,
          key
            ? `@Traced("${wanted}") is not a valid trace key; reported as "${key}"`
            : `@Traced("${wanted}") is not a valid trace key; not traced`,
        )
      if (!key) return method.apply(this, args)
      const end = endOnce(scope.startTrace(key))
      let result: unknown
      try {
        result = method.apply(this, args)
      } catch (error) {
        end()
        throw error
      }
      // Only native promises are observed: calling `then` on another thenable (a lazy query builder) could run it twice.
      if (result instanceof Promise) result.then(end, end)
      else if (isObservable(result)) return result.pipe(finalize(end))
      else end()
      return result
    }
    replaceMethod(descriptor, method, traced)
    return descriptor
  }
}
