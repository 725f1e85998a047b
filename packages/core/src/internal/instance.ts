import { randomUUID } from 'node:crypto'
import type {
  CaptureErrorOptions,
  DeviceScope,
  Feature,
  InstanceDecider,
  InstanceOptions,
  InstanceStatus,
  InstanceTelemetry,
} from '../types.js'
import type { TelemeterCore } from './client.js'
import { describe } from './config.js'
import type { DeviceState } from './devices.js'
import { osName, osVersion } from './environment.js'
import type { WireEvent } from './events.js'
import {
  type CounterKind,
  DailyCounters,
  type DayCounts,
  dayTimestamp,
  MAX_DAILY_KEYS,
} from './instance-counters.js'
import {
  ciDetected,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  INSTANCE_EVENTS,
  type ResolvedInstanceOptions,
  resolveInstanceOptions,
} from './instance-options.js'
import { sampleWithin } from './instance-properties.js'
import { guard } from './scope.js'
import { statusOf } from './status.js'

/** Value key of the anonymous instance id in storage. */
export const INSTANCE_ID_KEY = 'instanceId'
/** Calls made before storage opened wait for it; beyond this many they are dropped. */
const MAX_DEFERRED = 1_000
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * `telemeter.instance()`: product telemetry of a self-hosted installation.
 * Reports under its own device, a random UUID created the first time
 * telemetry may run, so it is never the host's own device id (which a host
 * may set to a hostname) and can be reset on its own. Uptime events follow
 * the `sessions` switch, usage counts `events`, sections `views`, errors
 * `crashes`, server properties `users`.
 */
export class ProductTelemetry implements InstanceTelemetry {
  private id: string | undefined
  /** The start event was recorded for the current id. */
  private announced = false
  private stopped = false
  private countersLoaded = false
  private sampling = false
  private deferred: (() => void)[] = []
  private readonly timer: NodeJS.Timeout | undefined
  private readonly startedAt: number
  private readonly counters: DailyCounters
  private readonly options: ResolvedInstanceOptions
  private readonly ci: boolean
  private environmentCache: Record<string, string> | undefined

  constructor(
    private readonly core: TelemeterCore,
    private readonly scopeOf: (id: string) => DeviceScope,
    options: InstanceOptions | undefined,
  ) {
    this.options = resolveInstanceOptions(core, options)
    this.ci = !this.options.trackCI && ciDetected()
    this.startedAt = this.options.now()
    this.counters = new DailyCounters(core, this.startedAt)
    if (core.closed) {
      this.stopped = true
      core.logger.warnOnce('closed:instance', 'instance() called after shutdown(); it records nothing')
      return
    }
    if (this.neverRuns) {
      core.logger.debug(
        this.ci
          ? 'product telemetry is off: CI is set (pass trackCI: true to record it there)'
          : 'product telemetry is off: a kill switch is set',
      )
      return
    }
    this.timer = setInterval(() => this.heartbeat(), this.options.heartbeatIntervalMs)
    this.timer.unref()
    core.ready.then(
      () => {
        if (!this.activate()) this.dropDeferred()
      },
      (error: Error) => core.reportError(error),
    )
  }

  get instanceId(): string | undefined {
    return this.id
  }

  count(key: string, n?: number): void {
    guard(this.core, 'instance.count', 'events', () => {
      const clean = this.core.sanitizer.key(key, 'instance.count key')
      if (clean === undefined) return this.core.refuse('events', 'invalid', 1, 'invalid usage key')
      let amount = 1
      if (n !== undefined) {
        if (typeof n === 'number' && Number.isFinite(n) && n >= 1) amount = Math.round(n)
        else {
          this.core.logger.warnOnce(
            'instance:n',
            `instance.count n must be a number >= 1, got ${describe(n)}; 1 is used`,
          )
        }
      }
      this.whenActive('events', () => this.add('features', 'events', clean, amount))
    })
  }

  section(name: string): void {
    guard(this.core, 'instance.section', 'views', () => {
      const clean = this.core.sanitizer.key(name, 'instance.section name')
      if (clean === undefined) return this.core.refuse('views', 'invalid', 1, 'invalid section name')
      this.whenActive('views', () => this.add('sections', 'views', clean, 1))
    })
  }

  captureError(error: unknown, options?: CaptureErrorOptions): void {
    guard(this.core, 'instance.captureError', 'crashes', () =>
      this.whenActive('crashes', () => {
        this.device()
        this.scopeOf(this.id!).captureError(error, options)
      }),
    )
  }

  resetInstanceId(): void {
    guard(this.core, 'instance.resetInstanceId', 'internal', () => {
      if (this.neverRuns) return
      if (!this.core.readyNow) return this.defer(() => this.resetInstanceId())
      this.id = undefined
      this.announced = false
      this.core.setValue(INSTANCE_ID_KEY, null)
      this.activate()
    })
  }

  status(): InstanceStatus {
    const base = statusOf(this.core)
    let decidedBy: InstanceDecider = base.decidedBy
    let reason = base.reason
    if (this.ci && (decidedBy === 'default' || decidedBy === 'server')) {
      decidedBy = 'CI'
      reason = 'CI is set in the environment (pass trackCI: true to record product telemetry there)'
    }
    return {
      enabled: decidedBy === 'default',
      decidedBy,
      reason,
      instanceId: this.id,
      uptimeSeconds: this.uptimeSeconds(),
      heartbeatIntervalMs: this.options.heartbeatIntervalMs,
      countingDay: this.counters.day,
    }
  }

  /** `shutdown()`, before core closes: the finished day, the stop event, counters saved. */
  stop(): void {
    if (this.stopped) return
    try {
      if (this.timer) clearInterval(this.timer)
      if (this.mayRun && this.core.readyNow && this.announced) {
        this.reportFinishedDay()
        // Counts that cannot survive the restart go now, rather than never.
        if (!this.core.storageDurable) this.counters.takeToday((counts) => this.sendDay(counts))
        this.uptimeEvent(INSTANCE_EVENTS.stop)
        this.counters.saveNow()
      }
    } catch (error) {
      this.core.reportError(error as Error)
    }
    this.stopped = true
    this.deferred = []
  }

  /** `setEnabled()`: on starts reporting (creating the id if need be); off forgets today's counts. */
  operatorChanged(enabled: boolean): void {
    if (this.neverRuns || !this.core.readyNow || this.stopped) return
    if (enabled) this.activate()
    else if (this.core.gate.killSwitch) this.counters.clear()
  }

  /** `setTracking()`: counts of a feature switched off are unsent data, dropped like the queue's. */
  policyChanged(): void {
    if (!this.countersLoaded || this.id === undefined) return
    const device = this.device()
    if (this.core.gate.refusal('events', device) === 'policy') this.counters.clear('features')
    if (this.core.gate.refusal('views', device) === 'policy') this.counters.clear('sections')
  }

  /** An environment or config switch, or CI: product telemetry cannot run in this process. */
  private get neverRuns(): boolean {
    const killSwitch = this.core.gate.killSwitch
    return this.ci || (killSwitch !== undefined && killSwitch !== 'operator')
  }

  private get mayRun(): boolean {
    return !this.stopped && !this.core.closed && !this.ci && this.core.gate.killSwitch === undefined
  }

  /**
   * Start reporting if telemetry may run: the instance id is created here,
   * the first time it may, and the start event is recorded once per id.
   */
  private activate(): boolean {
    if (!this.mayRun || !this.core.readyNow) return false
    if (!this.countersLoaded) {
      this.countersLoaded = true
      this.counters.load()
    }
    if (this.id === undefined) {
      const stored = this.core.values[INSTANCE_ID_KEY]
      this.id = stored && UUID.test(stored) ? stored : randomUUID()
      if (this.id !== stored) this.core.setValue(INSTANCE_ID_KEY, this.id)
    }
    if (!this.announced) {
      this.announced = true
      this.reportFinishedDay()
      this.uptimeEvent(INSTANCE_EVENTS.start)
      void this.sampleProperties()
    }
    if (this.deferred.length > 0) for (const action of this.deferred.splice(0)) action()
    return true
  }

  private whenActive(feature: Feature, action: () => void): void {
    if (this.neverRuns) return this.core.refuse(feature, 'disabled', 1)
    if (!this.core.readyNow) return this.defer(action)
    if (!this.activate()) return this.core.refuse(feature, 'disabled', 1)
    action()
  }

  private defer(action: () => void): void {
    if (this.deferred.length < MAX_DEFERRED) this.deferred.push(action)
    else
      this.core.logger.warnOnce(
        'instance:deferred',
        'too many product telemetry calls before storage opened; dropped',
      )
  }

  private dropDeferred(): void {
    this.deferred = []
  }

  /**
   * The instance's device state. With `requireConsent`, product telemetry
   * follows the consent of the Telemeter's own device (the installation's:
   * `telemeter.giveConsent(...)`), not a consent of its own.
   */
  private device(): DeviceState {
    const device = this.core.device(this.id!)
    if (this.core.gate.requireConsent) device.consent = this.core.self.consent
    return device
  }

  private add(kind: CounterKind, feature: Feature, key: string, n: number): void {
    const refusal = this.core.gate.refusal(feature, this.device())
    if (refusal) return this.core.refuse(feature, refusal, 1)
    this.reportFinishedDay()
    if (!this.counters.add(kind, key, n)) {
      this.core.logger.warnOnce(
        `instance:keys:${kind}`,
        `more than ${MAX_DAILY_KEYS} distinct ${kind === 'features' ? 'usage keys' : 'sections'} today; "${key}" is not counted`,
      )
      this.core.refuse(feature, 'invalid', 1, 'too many distinct keys today')
    }
  }

  private heartbeat(): void {
    try {
      const fresh = !this.announced
      if (!this.activate() || fresh) return
      this.reportFinishedDay()
      this.uptimeEvent(INSTANCE_EVENTS.heartbeat)
      void this.sampleProperties()
    } catch (error) {
      this.core.reportError(error as Error)
    }
  }

  private reportFinishedDay(): void {
    this.counters.rollover(this.options.now(), (counts) => this.sendDay(counts))
  }

  /** One event per key with the day's total, stamped on that day; queued at once so storage holds them before the reset counters. */
  private sendDay(counts: DayCounts): void {
    const core = this.core
    const device = this.device()
    const timestamp = dayTimestamp(counts.day, this.options.now())
    const time = { timestamp, hour: core.clock.hourOf(timestamp), dow: core.clock.dowOf(timestamp) }
    const batches: [Feature, [string, number][], (name: string, count: number) => WireEvent][] = [
      ['events', Object.entries(counts.features), (key, count) => ({ key, count, ...time })],
      [
        'views',
        Object.entries(counts.sections),
        (section, count) => ({ key: INSTANCE_EVENTS.section, count, segmentation: { section }, ...time }),
      ],
    ]
    for (const [feature, entries, toEvent] of batches) {
      if (entries.length === 0) continue
      const refusal = core.gate.refusal(feature, device)
      if (refusal) {
        core.refuse(feature, refusal, entries.length)
        continue
      }
      for (const [name, count] of entries) core.record(device, feature, toEvent(name, count))
    }
    core.flushDevice(device)
  }

  private uptimeEvent(key: string): void {
    const core = this.core
    const device = this.device()
    const refusal = core.gate.refusal('sessions', device)
    if (refusal) return core.refuse('sessions', refusal, 1)
    const timestamp = this.options.now()
    const event: WireEvent = {
      key,
      count: 1,
      dur: this.uptimeSeconds(),
      segmentation: this.environment(),
      timestamp,
      hour: core.clock.hourOf(timestamp),
      dow: core.clock.dowOf(timestamp),
    }
    core.record(device, 'sessions', event)
  }

  /** OS type and version, runtime and app version: what start, heartbeat and stop carry. */
  private environment(): Record<string, string> {
    this.environmentCache ??= {
      os: osName(),
      os_version: osVersion(),
      runtime: 'node',
      runtime_version: process.versions.node,
      app_version: this.core.appVersion,
    }
    return { ...this.environmentCache }
  }

  private uptimeSeconds(): number {
    return Math.max(0, Math.floor((this.options.now() - this.startedAt) / 1000))
  }

  /** Sample `properties` (one at a time) and send the answer as custom properties of the instance's device. */
  private async sampleProperties(): Promise<void> {
    const callback = this.options.properties
    if (!callback || this.sampling) return
    this.sampling = true
    try {
      const result = await sampleWithin(this.core, callback, this.options.propertiesTimeoutMs)
      if (!result || !this.mayRun || this.id === undefined || Object.keys(result).length === 0) return
      this.device()
      this.scopeOf(this.id).setUserDetails({ custom: result })
    } finally {
      this.sampling = false
    }
  }
}

/** What `instance()` returns if product telemetry could not be set up (a bug, reported as an `error` event): records nothing. */
export class InertInstance implements InstanceTelemetry {
  readonly instanceId = undefined
  constructor(private readonly core: TelemeterCore) {}
  count(): void {}
  section(): void {}
  captureError(): void {}
  resetInstanceId(): void {}
  status(): InstanceStatus {
    const base = statusOf(this.core)
    return {
      enabled: false,
      decidedBy: base.decidedBy,
      reason: 'product telemetry could not be set up (see the error event)',
      instanceId: undefined,
      uptimeSeconds: 0,
      heartbeatIntervalMs: DEFAULT_HEARTBEAT_INTERVAL_MS,
      countingDay: new Date().toISOString().slice(0, 10),
    }
  }
}
