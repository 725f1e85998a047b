import { Inject, Injectable } from '@nestjs/common'
import { currentScope, type DeviceScope, type Telemeter } from '@telemeter/core'
import { TELEMETER } from './runtime.js'

/**
 * Injectable access to Telemeter. `scope` is the device of the request being
 * handled (the one its trace and crashes report as) inside a request, and
 * the instance's own device outside one (startup, cron jobs, queues).
 *
 * @example
 * ```ts
 * @Injectable()
 * export class CheckoutService {
 *   constructor(@Inject(TelemeterService) private readonly telemetry: TelemeterService) {}
 *
 *   pay(order: Order) {
 *     this.telemetry.scope.event('checkout', { sum: order.total, segmentation: { plan: order.plan } })
 *   }
 * }
 * ```
 */
export class TelemeterService {
  constructor(private readonly instance: Telemeter) {}

  /** The Telemeter the module records through. */
  get telemeter(): Telemeter {
    return this.instance
  }

  /**
   * The request's `DeviceScope` inside a request (core's `currentScope()`),
   * else the Telemeter itself.
   * @default the Telemeter's own device outside a request
   */
  get scope(): DeviceScope {
    return currentScope() ?? this.instance
  }
}

Injectable()(TelemeterService)
Inject(TELEMETER)(TelemeterService, undefined, 0)

/**
 * Inject the `Telemeter` instance of `TelemeterModule`.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class ReportJob {
 *   constructor(@InjectTelemeter() private readonly telemeter: Telemeter) {}
 * }
 * ```
 */
export function InjectTelemeter(): PropertyDecorator & ParameterDecorator {
  return Inject(TELEMETER)
}
