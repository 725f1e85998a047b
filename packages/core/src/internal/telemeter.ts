import type {
  DeviceScope,
  Feature,
  InstanceOptions,
  InstanceTelemetry,
  ShutdownOptions,
  Telemeter,
  TelemeterConfig,
  TelemeterEventMap,
  TelemeterStats,
  TelemeterStatus,
  TrackingPolicy,
} from '../types.js'
import { registerCore, TelemeterCore } from './client.js'
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, describe, MAX_DEVICE_ID_LENGTH, resolveConfig } from './config.js'
import { groupFeaturesOf } from './consent.js'
import { installUncaughtCapture } from './crash.js'
import { InertInstance, ProductTelemetry } from './instance.js'
import { reportAppStartOf } from './parity.js'
import { activeKillSwitch } from './policy.js'
import { setTrackingOf } from './policy-runtime.js'
import { cleanDeviceId } from './sanitize.js'
import { guard, RefusingScope, Scope } from './scope.js'
import { beginSessionOf, endSessionOf } from './session.js'
import { statusOf } from './status.js'

class TelemeterInstance extends Scope implements Telemeter {
  private shutdownPromise: Promise<void> | undefined
  private uninstallUncaught: (() => void) | undefined
  private readonly refusing: RefusingScope
  private product: ProductTelemetry | undefined

  constructor(core: TelemeterCore) {
    super(core, undefined)
    registerCore(this, core)
    this.refusing = new RefusingScope(core)
    if (core.config.captureUncaught && !core.gate.killSwitch) {
      this.uninstallUncaught = installUncaughtCapture(core, () => core.self)
    }
    if (core.config.sessions === 'auto' && !core.gate.killSwitch) {
      core.ready.then(
        () => {
          if (core.closed) return
          core.autoSession = true
          if (!core.gate.killSwitch) beginSessionOf(core, core.self)
        },
        (error: Error) => core.reportError(error),
      )
    }
  }

  forDevice(deviceId: string): DeviceScope {
    try {
      const id = cleanDeviceId(deviceId, MAX_DEVICE_ID_LENGTH)
      if (id === undefined) {
        this.core.logger.warnOnce(
          'forDevice:invalid',
          `forDevice() needs a non-empty string id, got ${describe(deviceId)}; data for it is dropped`,
        )
        return this.refusing
      }
      if (id === this.core.self.id) return this
      const device = this.core.device(id)
      return (device.scope ??= new Scope(this.core, id)) as DeviceScope
    } catch (error) {
      this.core.reportError(error as Error)
      return this.refusing
    }
  }

  flush(): Promise<void> {
    if (this.core.closed) return this.shutdownPromise ?? Promise.resolve()
    return this.core.flush().catch((error: Error) => this.core.reportError(error))
  }

  shutdown(options?: ShutdownOptions): Promise<void> {
    if (this.shutdownPromise) return this.shutdownPromise
    const core = this.core
    const requested = options?.timeoutMs
    const timeoutMs =
      typeof requested === 'number' && Number.isFinite(requested) && requested >= 0
        ? requested
        : DEFAULT_SHUTDOWN_TIMEOUT_MS
    // Every timer of core is unref()ed: without one held here, a process with nothing else to
    // do (a signal handler awaiting this) would exit before delivery finished or timed out.
    const keepAlive = setTimeout(() => {}, timeoutMs + 1_000)
    this.shutdownPromise = (async () => {
      try {
        this.uninstallUncaught?.()
        // Product telemetry's stop event and counters go before core closes.
        const product = this.product
        if (product && core.readyNow) product.stop()
        else if (product) core.ready.then(() => product.stop()).catch(() => {})
        if (core.readyNow && core.self.sessionActive) endSessionOf(core, core.self)
        else core.ready.then(() => core.self.sessionActive && endSessionOf(core, core.self)).catch(() => {})
        await core.close(timeoutMs)
      } catch (error) {
        core.reportError(error as Error)
      } finally {
        clearTimeout(keepAlive)
      }
    })()
    return this.shutdownPromise
  }

  stats(): TelemeterStats {
    return this.core.stats()
  }

  on<K extends keyof TelemeterEventMap>(type: K, listener: TelemeterEventMap[K]): () => void {
    return this.core.emitter.on(type, listener)
  }

  off<K extends keyof TelemeterEventMap>(type: K, listener: TelemeterEventMap[K]): void {
    this.core.emitter.off(type, listener)
  }

  setTracking(policy: TrackingPolicy): void {
    guard(this.core, 'setTracking', 'internal', () => {
      setTrackingOf(this.core, policy)
      this.product?.policyChanged()
    })
  }

  setEnabled(enabled: boolean): void {
    guard(this.core, 'setEnabled', 'internal', () => {
      if (typeof enabled !== 'boolean') {
        this.core.logger.warnOnce(
          'setEnabled',
          `setEnabled needs true or false, got ${describe(enabled)}; ignored`,
        )
        return
      }
      this.core.setOperatorChoice(enabled)
      this.product?.operatorChanged(enabled)
    })
  }

  instance(options?: InstanceOptions): InstanceTelemetry {
    try {
      if (this.product) {
        if (options !== undefined)
          this.core.logger.warnOnce(
            'instance:twice',
            'instance() was already called; the first handle (with its options) is returned',
          )
        return this.product
      }
      this.product = new ProductTelemetry(this.core, (id) => this.forDevice(id), options)
      return this.product
    } catch (error) {
      this.core.reportError(error as Error)
      return new InertInstance(this.core)
    }
  }

  status(): TelemeterStatus {
    return statusOf(this.core)
  }

  reportAppStart(): void {
    guard(this.core, 'reportAppStart', 'apm', () => reportAppStartOf(this.core, this.core.self))
  }

  groupFeatures(groups: Record<string, Feature[]>): void {
    guard(this.core, 'groupFeatures', 'internal', () => groupFeaturesOf(this.core, groups))
  }
}

/**
 * Create a Telemeter: a Countly client with a persistent queue. Throws
 * `TelemeterConfigError` only for a missing or malformed `url`/`appKey`
 * (never when a kill switch is on); after that nothing it does throws.
 *
 * @example
 * ```ts
 * import { createTelemeter } from '@telemeter/core'
 *
 * const telemeter = createTelemeter({ url: 'https://countly.example.com', appKey: 'APP_KEY' })
 * telemeter.event('report.created', { segmentation: { format: 'pdf' } })
 * process.on('SIGTERM', () => telemeter.shutdown().then(() => process.exit(0)))
 * ```
 */
export function createTelemeter(config: TelemeterConfig): Telemeter {
  const killSwitch = activeKillSwitch((config as Partial<TelemeterConfig> | undefined)?.disabled === true)
  const resolved = resolveConfig(config, killSwitch !== undefined)
  return new TelemeterInstance(new TelemeterCore(resolved, killSwitch))
}
