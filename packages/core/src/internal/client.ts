import { randomUUID } from 'node:crypto'
import type { DropInfo, DropReason, Feature, Limits, SentInfo, StorageAdapter, StoredData } from '../types.js'
import { Clock } from './clock.js'
import { MAX_DEVICE_ID_LENGTH, type ResolvedConfig } from './config.js'
import { restoreConsent } from './consent.js'
import { DEVICE_ID_TYPE_KEY } from './device-id.js'
import { DeviceRegistry, DeviceState } from './devices.js'
import { Emitter } from './emitter.js'
import { FALLBACK_APP_VERSION, hostAppVersion, sessionMetrics } from './environment.js'
import { DEVICE_ID_KEY } from './file-storage.js'
import { Health } from './health.js'
import { enableIdentifierHashing } from './identifiers.js'
import { type LocationParams, locationParams } from './location.js'
import { TelemeterLogger } from './logger.js'
import { Gate, type KillSwitch } from './policy.js'
import { type QueuedRequest, RequestQueue } from './queue.js'
import { fetchRemoteConfigOf, restoreRemoteConfig } from './remote-config.js'
import type { RequestParams } from './request.js'
import { cleanDeviceId, Sanitizer } from './sanitize.js'
import { Sender } from './sender.js'
import { restoreServerConfig, startServerConfig } from './server-config.js'
import { beginSessionOf, endSessionOf, extendSessionOf } from './session.js'
import { createStorage, MemoryStorage, Persister } from './storage.js'
import { traceBody, traceOf } from './trace-body.js'
import { Transport } from './transport.js'
import { SDK_NAME, SDK_VERSION } from './version.js'

/**
 * Telemeter -> engine. Kept on a `Symbol.for` key so that when an app loads
 * two copies of core (its ESM and CJS builds, or two versions through
 * different adapters) an adapter from one copy still finds the engine of a
 * Telemeter made by the other. Keyed weakly by instance: no shared state.
 */
const REGISTRY_KEY = Symbol.for('@telemeter/core.engines')
const cores: WeakMap<object, TelemeterCore> = ((globalThis as Record<symbol, unknown>)[REGISTRY_KEY] ??=
  new WeakMap<object, TelemeterCore>()) as WeakMap<object, TelemeterCore>
export const OPERATOR_CHOICE_KEY = 'operatorEnabled'

/** The engine behind a public Telemeter (for adapters built into core). */
export function coreOf(telemeter: object): TelemeterCore | undefined {
  return cores.get(telemeter)
}

export function registerCore(telemeter: object, core: TelemeterCore): void {
  cores.set(telemeter, core)
}

/** Above this many events waiting for the flush tick, batch them early to bound memory and the work of one tick. */
const PENDING_SOFT_LIMIT = 1_000
/** How far request timestamps may run ahead of the clock to stay unique in the whole process. */
const MAX_TIMESTAMP_LEAD_MS = 1_000
/** Events an early flush batches per macrotask, so that it never stalls the host. */
const EARLY_FLUSH_SLICE = 500

interface PreReadyRequest {
  readonly device: DeviceState
  readonly feature: Feature | 'internal'
  /** The feature's own parameters (or the host's, for a raw request); the common ones are added at commit. */
  readonly params: RequestParams
  readonly timestamp: number
  /** When its data was recorded (ms): it must be on disk one flush interval later. */
  readonly recordedAt: number
  readonly events: number
  readonly metrics: boolean
  readonly raw: boolean
}

/** `"sdk_name":...,"sdk_version":...`, the same in every request. */
const SDK_FIELDS = `"sdk_name":${JSON.stringify(SDK_NAME)},"sdk_version":${JSON.stringify(SDK_VERSION)}`

export interface RuntimeSettings {
  readonly limits: Required<Limits>
  maxEventsPerRequest: number
  sessionUpdateIntervalMs: number
  /** Requests older than this are dropped unsent (server setting `dort`). */
  dropOlderThanMs: number | undefined
  serverConfigRefreshMs: number
}

export interface EnqueueOptions {
  /** Add the automatic metrics (`begin_session`, remote config). */
  readonly metrics?: boolean
  /** When its data was recorded (ms), if earlier than now: the disk deadline counts from there. */
  readonly recordedAt?: number
  /** A raw request (`request()`): the host's own parameters win over the common ones. */
  readonly raw?: boolean
}

/**
 * The shared engine behind a Telemeter and all its device scopes: batching,
 * the persistent queue, delivery and accounting. Public objects wrap it and
 * never let an exception out; the engine itself may throw on bugs.
 */
export class TelemeterCore {
  readonly logger: TelemeterLogger
  readonly emitter = new Emitter()
  readonly clock = new Clock()
  readonly sanitizer: Sanitizer
  readonly gate: Gate
  readonly queue: RequestQueue
  readonly devices: DeviceRegistry
  readonly self: DeviceState
  readonly ready: Promise<void>
  /** Settings the server may change at run time (`method=sc`); start as the config. */
  readonly settings: RuntimeSettings
  readonly health = new Health()
  readonly consentGroups = new Map<string, Feature[]>()
  /** Location from config, sent with every session start unless the device has its own. */
  initLocation: LocationParams | undefined
  /** How often requests due on disk are written: a quarter of the flush interval keeps every deadline. */
  private get persistTickMs(): number {
    return Math.max(5, Math.floor(this.config.flushIntervalMs / 4))
  }

  /** `reportAppStart()` happened in this process. */
  appStartReported = false
  /** The instance's own session is automatic (`sessions: 'auto'`). */
  autoSession = false
  /** Salted hashing of identifiers (`hashIdentifiers`), once storage is open. */
  identifiers: { hash(id: string): string } | undefined
  /** `appVersion` from config, else the host package's version, else "0.0.0"; known from the start. */
  readonly appVersion: string
  values: Record<string, string> = {}
  closed = false

  private readonly persister: Persister
  /** An environment or config kill switch was on at creation: no timers, storage or transport at all. */
  private readonly offAtStart: boolean
  private readonly transport: Transport | undefined
  private readonly sender: Sender | undefined
  private isReady = false
  private preReady: PreReadyRequest[] = []
  private readonly dirty = new Set<DeviceState>()
  private pendingTotal = 0
  private earlyFlushScheduled = false
  private timers: NodeJS.Timeout[] = []
  private counters = { sent: 0, retried: 0, dropped: 0, sentEvents: 0, droppedEvents: 0 }

  constructor(
    readonly config: ResolvedConfig,
    killSwitch: KillSwitch | undefined,
  ) {
    this.logger = TelemeterLogger.create(config.debug, config.customLogger, () => this.health.recordWarning())
    this.appVersion = config.appVersion ?? hostAppVersion() ?? FALLBACK_APP_VERSION
    this.settings = {
      limits: { ...config.limits },
      maxEventsPerRequest: config.maxEventsPerRequest,
      sessionUpdateIntervalMs: config.sessionUpdateIntervalMs,
      dropOlderThanMs: undefined,
      serverConfigRefreshMs: 4 * 3_600_000,
    }
    this.sanitizer = new Sanitizer(this.settings.limits, this.logger)
    if (config.initLocation) this.initLocation = locationParams(this, config.initLocation)
    this.gate = new Gate(killSwitch, config.tracking, config.requireConsent)
    this.queue = new RequestQueue(config.maxQueueSize, (request) =>
      this.dropRequests([request], 'queue-full'),
    )
    const givenId = config.deviceId ? cleanDeviceId(config.deviceId, MAX_DEVICE_ID_LENGTH) : undefined
    this.self = new DeviceState(givenId ?? '', '', givenId ? 0 : 1, true)
    this.devices = new DeviceRegistry(
      config.maxDevices,
      config.deviceIdleMs,
      (id) => new DeviceState(id, '', 0, false),
      (device) => this.evictDevice(device),
      (device) => endSessionOf(this, device, device.lastActivity),
    )
    const disabled = killSwitch !== undefined
    this.offAtStart = disabled
    const storage: StorageAdapter = disabled ? new MemoryStorage() : createStorage(config, this.logger)
    this.persister = new Persister(storage, this.logger, (error) => this.reportError(error))
    // Print mode (`debug: 'print'`, TELEMETER_DEBUG) sends nothing at all, fetches included: no transport.
    if (!disabled && !config.printPayloads) {
      this.transport = new Transport({
        url: config.url,
        timeoutMs: config.requestTimeoutMs,
        headers: config.headers,
        agent: config.agent,
        beforeRequest: config.beforeRequest,
        onHookError: (error) =>
          this.logger.warnOnce(
            'beforeRequest',
            `beforeRequest threw (${error.message}); the request is sent unchanged`,
          ),
      })
      this.sender = new Sender(config, this.queue, this.transport, this.logger, {
        delivered: (batch, endpoint) => this.delivered(batch, endpoint),
        rejected: (batch, reason) => this.dropRequests(batch, 'rejected', reason),
        retrying: (batch) => {
          this.counters.retried += batch.length
        },
        maySend: () => this.maySend(),
        prune: () => this.pruneExpired(),
        responded: (status) => this.health.recordStatus(status),
        failed: (reason) => this.health.recordError(reason),
      })
    }
    this.ready = disabled ? this.markReady() : this.start(storage)
  }

  /** The send-time check: no kill switch, and the server's `networking` switch on. */
  private maySend(): boolean {
    return !this.gate.killSwitch && this.gate.serverNetworking
  }

  /** Requests to the server go through here (remote config, server config fetches). */
  get http(): Transport | undefined {
    return this.transport
  }

  private async start(storage: StorageAdapter): Promise<void> {
    let data: StoredData
    try {
      data = await storage.open()
    } catch (error) {
      this.logger.warn(
        `storage could not be opened (${(error as Error).message}); continuing in memory: queued data will not survive a restart`,
      )
      this.reportError(error as Error)
      data = { requests: [], values: {} }
      this.persister.degrade()
    }
    // Values set before storage opened (an early setEnabled) are newer than the stored ones.
    this.values = { ...data.values, ...this.values }
    if (data.corruptRecords) {
      this.logger.warn(`${data.corruptRecords} unreadable queue record(s) were discarded from storage`)
      this.reportError(new Error(`${data.corruptRecords} corrupted queue record(s) discarded on recovery`))
      this.counters.dropped += data.corruptRecords
      this.emitter.emit('dropped', {
        reason: 'invalid',
        requests: data.corruptRecords,
        events: 0,
        feature: 'internal',
        detail: 'corrupted on disk',
      })
    }
    await this.restore(data.requests)
    if (this.values[OPERATOR_CHOICE_KEY] === 'false' && !this.gate.killSwitch)
      this.gate.killSwitch = 'operator'
    if (this.gate.killSwitch === 'operator') {
      // Switched off: what an earlier run left queued is never sent, so it is not kept either.
      const left = this.queue.peek(this.queue.size)
      if (left.length > 0) this.dropRequests(left, 'disabled', 'telemetry switched off by the operator')
    }
    enableIdentifierHashing(this)
    this.resolveDeviceId()
    restoreConsent(this)
    restoreRemoteConfig(this)
    if (this.config.serverConfig) restoreServerConfig(this)
    this.regateEarly()
    await this.markReady()
  }

  private async restore(requests: StoredData['requests']): Promise<void> {
    let restored = 0
    for (const stored of requests) {
      let device = ''
      let events = 0
      let createdAt = 0
      try {
        const params = JSON.parse(stored.body) as {
          device_id?: unknown
          events?: unknown
          timestamp?: unknown
        }
        device = String(params.device_id ?? '')
        events = Array.isArray(params.events) ? params.events.length : 0
        createdAt = Number(params.timestamp) || 0
      } catch {
        this.dropRequests(
          [{ ...stored, device, events, createdAt, queuedAt: 0, persistBy: 0 }],
          'invalid',
          'stored request is not valid JSON',
        )
        continue
      }
      this.queue.push({
        id: stored.id,
        feature: stored.feature,
        body: stored.body,
        device,
        events,
        createdAt,
        queuedAt: 0,
        persistBy: 0,
      })
      if (++restored % 2_000 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    if (restored > 0) this.logger.debug(`${restored} request(s) restored from storage`)
  }

  /**
   * The instance's device id: the configured one, else the one kept in
   * storage, else a new random UUID, persisted. Not created while telemetry
   * is switched off: an installation that never allowed telemetry keeps no id.
   */
  resolveDeviceId(): void {
    if (this.self.id === '' && this.gate.killSwitch) return
    if (this.self.id) {
      if (this.values[DEVICE_ID_KEY] !== this.self.id) this.setValue(DEVICE_ID_KEY, this.self.id)
      this.setValue(DEVICE_ID_TYPE_KEY, '0')
      return
    }
    const stored = cleanDeviceId(this.values[DEVICE_ID_KEY], MAX_DEVICE_ID_LENGTH)
    const id = stored ?? randomUUID()
    this.self.id = id
    this.self.idType = stored && this.values[DEVICE_ID_TYPE_KEY] === '0' ? 0 : 1
    if (!stored) this.setValue(DEVICE_ID_KEY, id)
  }

  private async markReady(): Promise<void> {
    this.isReady = true
    const waiting = this.preReady
    this.preReady = []
    for (const entry of waiting) this.commit(entry)
    if (this.closed || this.offAtStart) return
    const tick = setInterval(() => this.tick(), this.config.flushIntervalMs)
    tick.unref()
    this.timers.push(tick)
    // Requests reach the disk by their deadline, not before: most are delivered first and never written.
    this.addTimer(() => void this.persister.persist(Date.now() + this.persistTickMs), this.persistTickMs)
    this.health.start(this)
    if (this.config.serverConfig) startServerConfig(this)
    if (this.config.remoteConfigAuto && !this.gate.killSwitch)
      void fetchRemoteConfigOf(this, this.self, undefined)
    this.sender?.schedule()
  }

  /**
   * The operator's choice (`setEnabled`). Off: everything queued or pending
   * is dropped and nothing is sent; on: recording and delivery resume.
   * Higher switches (environment, config) cannot be overridden from here.
   */
  setOperatorChoice(enabled: boolean): void {
    this.setValue(OPERATOR_CHOICE_KEY, enabled ? 'true' : 'false')
    if (!enabled) {
      if (this.gate.killSwitch) return
      this.gate.killSwitch = 'operator'
      this.flushPending()
      const queued = this.queue.peek(this.queue.size).filter((request) => !this.queue.isPinned(request.id))
      if (queued.length > 0) this.dropRequests(queued, 'disabled', 'telemetry switched off by the operator')
      for (const entry of this.preReady.splice(0))
        this.refuse(entry.feature, 'disabled', entry.events, undefined, () => [this.paramsOf(entry)])
      return
    }
    if (this.gate.killSwitch !== 'operator') return
    this.gate.killSwitch = undefined
    if (this.isReady) this.resolveDeviceId()
    if (this.autoSession && !this.self.sessionActive) beginSessionOf(this, this.self)
    this.resumeSending()
  }

  /** The id sent on the wire for a device id (hashed when `hashIdentifiers` is on). */
  wireIdOf(id: string): string {
    return this.identifiers ? this.identifiers.hash(id) : id
  }

  /** A device's wire id, computed once per device and only once storage is open (the hash salt lives there). */
  wireOf(device: DeviceState): string {
    if (device.wireId !== '') return device.wireId
    const wire = this.wireIdOf(device.id)
    // Before storage is open the hash salt (and the own id) may be unknown: never keep such a value.
    if (this.isReady) device.wireId = wire
    return wire
  }

  /**
   * The process is dying before storage opened (an uncaught exception right
   * at start-up, the crash users need most): give the requests held in
   * memory their device id and a body, so the file storage can write them
   * synchronously for the next start. Not with hashed identifiers: their
   * salt is in the storage that is not open.
   */
  private commitForEmergency(): void {
    const file = this.persister.fileStorage
    if (!file || this.gate.killSwitch || this.config.hashIdentifiers || this.config.printPayloads) return
    if (!this.self.id) {
      const { id, stored } = file.emergencyDeviceId(randomUUID())
      this.self.id = id
      this.self.idType = stored ? this.self.idType : 1
    }
    const waiting = this.preReady
    this.preReady = []
    for (const entry of waiting) this.commit(entry)
  }

  /** Queued data survives a restart. */
  get storageDurable(): boolean {
    return this.persister.durable
  }

  /** Synchronously persist what is pending (a dying process). */
  persistNow(dying: boolean): void {
    if (!this.isReady && dying) this.commitForEmergency()
    this.persister.persistSync()
  }

  /** Sending was switched back on (server `networking`, operator choice): go. */
  resumeSending(): void {
    this.sender?.schedule()
  }

  /** Drop requests older than the server's `dort` setting, oldest first. */
  private pruneExpired(): void {
    const maxAge = this.settings.dropOlderThanMs
    if (maxAge === undefined) return
    const cutoff = Date.now() - maxAge
    const expired = this.queue.peek(this.queue.size, (request) => request.createdAt < cutoff)
    if (expired.length > 0) this.dropRequests(expired, 'expired', 'older than the server setting dort allows')
  }

  /** Add a timer that dies with the instance (never keeps the process alive). */
  addTimer(callback: () => void, intervalMs: number): void {
    const timer = setInterval(() => {
      try {
        callback()
      } catch (error) {
        this.reportError(error as Error)
      }
    }, intervalMs)
    timer.unref()
    this.timers.push(timer)
  }

  get readyNow(): boolean {
    return this.isReady
  }

  /** Automatic metrics, with the configured `metrics` override merged in. */
  metrics(): Record<string, string> {
    return { ...sessionMetrics(this.appVersion), ...this.config.metrics }
  }

  setValue(key: string, value: string | null): void {
    if (value === null) delete this.values[key]
    else this.values[key] = value
    this.persister.setValue(key, value)
  }

  device(id: string): DeviceState {
    return id === this.self.id ? this.self : this.devices.get(id, this.clock.timestamp())
  }

  /** Queue a pending event; it is batched into a request at the next tick. */
  record(device: DeviceState, feature: Feature, event: object): void {
    const pending = (device.pending ??= {})
    const bucket = (pending[feature] ??= [])
    bucket.push(event)
    device.pendingCount++
    this.pendingTotal++
    if (device.pendingCount === 1) this.dirty.add(device)
    if (bucket.length >= this.settings.maxEventsPerRequest) this.flushDevice(device)
    else if (this.pendingTotal >= PENDING_SOFT_LIMIT && !this.earlyFlushScheduled) {
      this.earlyFlushScheduled = true
      setImmediate(() => this.flushEarly())
    }
  }

  /** Turn a device's pending events into requests now (before a session end or crash, to keep order). */
  flushDevice(device: DeviceState): void {
    const pending = device.pending
    if (!pending) return
    device.pending = undefined
    this.pendingTotal -= device.pendingCount
    device.pendingCount = 0
    this.dirty.delete(device)
    for (const [feature, events] of Object.entries(pending) as [Feature, object[]][]) {
      for (let i = 0; i < events.length; i += this.settings.maxEventsPerRequest) {
        const chunk = events.slice(i, i + this.settings.maxEventsPerRequest)
        const first = (chunk[0] as { timestamp?: unknown } | undefined)?.timestamp
        this.enqueue(device, feature, { events: chunk }, chunk.length, {
          recordedAt: typeof first === 'number' ? first : undefined,
        })
      }
    }
  }

  flushPending(): void {
    for (const device of this.dirty) this.flushDevice(device)
  }

  /** Batch pending events a slice at a time until well below the soft limit. */
  private flushEarly(): void {
    try {
      let budget = EARLY_FLUSH_SLICE
      for (const device of this.dirty) {
        budget -= device.pendingCount
        this.flushDevice(device)
        if (budget <= 0) break
      }
    } catch (error) {
      this.reportError(error as Error)
    }
    if (this.pendingTotal >= PENDING_SOFT_LIMIT / 2 && !this.closed) setImmediate(() => this.flushEarly())
    else this.earlyFlushScheduled = false
  }

  /** Build a request for `device` with the protocol's common parameters and queue it. */
  enqueue(
    device: DeviceState,
    feature: Feature | 'internal',
    params: RequestParams,
    events: number,
    options?: EnqueueOptions,
  ): void {
    const timestamp = this.clock.requestTimestamp(device.lastTimestamp, MAX_TIMESTAMP_LEAD_MS)
    device.lastTimestamp = timestamp
    const entry: PreReadyRequest = {
      device,
      feature,
      params,
      timestamp,
      recordedAt: options?.recordedAt ?? Date.now(),
      events,
      metrics: options?.metrics === true,
      raw: options?.raw === true,
    }
    if (this.isReady) this.commit(entry)
    else this.preReady.push(entry)
  }

  /**
   * Every parameter of a request as the server will read it: the common
   * protocol fields, then the feature's (a raw request's own values win).
   */
  private fullParams(entry: PreReadyRequest, rr: number): RequestParams {
    const { device, params, timestamp } = entry
    const full: RequestParams = {
      app_key: this.config.appKey,
      device_id: this.wireOf(device),
      t: device.idType,
      timestamp,
      hour: this.clock.hourOf(timestamp),
      dow: this.clock.dowOf(timestamp),
      tz: this.clock.fields(timestamp).tz,
      sdk_name: SDK_NAME,
      sdk_version: SDK_VERSION,
      ...params,
    }
    if (entry.raw && (full.device_id === '' || full.device_id === undefined))
      full.device_id = this.wireOf(device)
    if (entry.metrics) full.metrics = this.metrics()
    if (!entry.raw || full.rr === undefined) full.rr = rr
    return full
  }

  /**
   * The JSON body of a request and the device id it carries. APM traces
   * (one per HTTP request in the adapters) are written from a template with
   * the device's cached head (trace-body.ts); every other request is merged
   * and stringified natively.
   */
  private body(entry: PreReadyRequest, rr: number): { body: string; device: string } {
    const trace = entry.raw || entry.metrics ? undefined : traceOf(entry.params)
    if (!trace) {
      const full = this.fullParams(entry, rr)
      return { body: JSON.stringify(full), device: String(full.device_id) }
    }
    const { device, timestamp } = entry
    const wire = this.wireOf(device)
    if (device.headFor !== wire || device.headType !== device.idType) {
      device.head = `{"app_key":${JSON.stringify(this.config.appKey)},"device_id":${JSON.stringify(wire)},"t":${device.idType}`
      device.headFor = wire
      device.headType = device.idType
    }
    const head = `${device.head},"timestamp":${timestamp},"hour":${this.clock.hourOf(timestamp)},"dow":${this.clock.dowOf(timestamp)},"tz":${this.clock.fields(timestamp).tz},${SDK_FIELDS}`
    return { body: traceBody(head, trace, rr), device: wire }
  }

  /** `request()`: the host's parameters, completed with only the protocol parameters they lack. */
  enqueueRaw(device: DeviceState, params: RequestParams, events: number): void {
    this.enqueue(device, 'internal', params, events, { raw: true })
  }

  /** True before storage is open; requests are held in memory until then. */
  get starting(): boolean {
    return !this.isReady
  }

  private commit(entry: PreReadyRequest): void {
    const { feature, events } = entry
    // Checked again here: data recorded before storage opened did not know the stored operator choice.
    if (this.gate.killSwitch)
      return this.refuse(feature, 'disabled', events, undefined, () => [this.paramsOf(entry)])
    if (this.config.printPayloads) {
      this.logger.notice(
        `payload (not sent, debug: 'print'): ${JSON.stringify(this.fullParams(entry, this.queue.size))}`,
      )
      return
    }
    const { body, device: wire } = this.body(entry, this.queue.size)
    const request: QueuedRequest = {
      id: this.queue.allocateId(),
      feature,
      body,
      device: wire,
      events,
      createdAt: entry.timestamp,
      queuedAt: Date.now(),
      persistBy: entry.recordedAt + this.config.flushIntervalMs,
    }
    this.queue.push(request)
    this.persister.append(request)
    this.sender?.schedule()
  }

  private tick(): void {
    try {
      const self = this.self
      if (
        this.autoSession &&
        self.sessionActive &&
        this.clock.timestamp() - self.sessionUpdatedAt >= this.settings.sessionUpdateIntervalMs
      ) {
        extendSessionOf(this, self)
      }
      this.flushPending()
      this.devices.sweep(this.clock.timestamp())
      void this.persister.persist(Date.now() + this.persistTickMs)
      this.sender?.schedule()
    } catch (error) {
      this.reportError(error as Error)
    }
  }

  private evictDevice(device: DeviceState): void {
    this.flushDevice(device)
    if (device.sessionActive) endSessionOf(this, device, device.lastActivity)
  }

  private delivered(batch: readonly QueuedRequest[], endpoint: SentInfo['endpoint']): void {
    let events = 0
    for (const request of batch) {
      if (!this.queue.remove(request.id)) continue
      this.persister.remove(request.id)
      events += request.events
    }
    this.counters.sent += batch.length
    this.counters.sentEvents += events
    // Mark them delivered on disk now: after a kill -9 only the batch in flight can be sent again.
    void this.persister.persist()
    this.emitter.emit('sent', { requests: batch.length, events, endpoint })
  }

  /** Remove queued requests for good and account for them. */
  dropRequests(batch: readonly QueuedRequest[], reason: DropReason, detail?: string): void {
    let events = 0
    for (const request of batch) {
      this.queue.remove(request.id)
      this.persister.remove(request.id)
      events += request.events
    }
    this.counters.dropped += batch.length
    this.counters.droppedEvents += events
    if (!this.emitter.has('dropped')) return
    const info = {
      reason,
      requests: batch.length,
      events,
      feature: batch[0]?.feature ?? 'internal',
      ...(detail ? { detail } : {}),
    }
    this.emitter.emit(
      'dropped',
      withPayloads(info, () => batch.flatMap(parsedBody)),
    )
  }

  /**
   * Account for data refused before it became a request; `payloads` (read
   * only if a listener asks) makes it identifiable: `{ device_id, events }`.
   */
  refuse(
    feature: Feature | 'internal',
    reason: DropReason,
    events: number,
    detail?: string,
    payloads?: () => Record<string, unknown>[],
  ): void {
    this.counters.droppedEvents += events
    if (this.emitter.has('dropped')) {
      const info = { reason, requests: 0, events, feature, ...(detail ? { detail } : {}) }
      this.emitter.emit('dropped', payloads ? withPayloads(info, payloads) : info)
    }
  }

  /** The parameters of a request not committed yet, with its device id. */
  private paramsOf(entry: PreReadyRequest): Record<string, unknown> {
    return this.fullParams(entry, this.queue.size)
  }

  /** Drop queued and pending data of a feature (switched off by policy or consent), of one device or all. */
  purge(feature: Feature, reason: DropReason, only?: DeviceState): void {
    for (const device of only ? [only] : [...this.dirty]) this.dropPending(device, feature, reason)
    const removed = this.queue.purge(
      (request) =>
        request.feature === feature && (only === undefined || request.device === this.wireOf(only)),
    )
    this.preReady = this.preReady.filter((entry) => {
      const drop = entry.feature === feature && (only === undefined || entry.device === only)
      if (drop) this.refuse(feature, reason, entry.events, undefined, () => [this.paramsOf(entry)])
      return !drop
    })
    if (removed.length > 0) this.dropRequests(removed, reason)
  }

  /** Forget a device's pending (not yet batched) events of one feature. */
  private dropPending(device: DeviceState, feature: Feature, reason: DropReason): void {
    const events = device.pending?.[feature]
    if (!events) return
    delete device.pending![feature]
    device.pendingCount -= events.length
    this.pendingTotal -= events.length
    if (device.pendingCount === 0) {
      device.pending = undefined
      this.dirty.delete(device)
    }
    this.refuse(feature, reason, events.length, undefined, () => [{ device_id: this.wireOf(device), events }])
  }

  /**
   * What was recorded while storage was opening passed the gate before the
   * stored consent and server settings were known: drop what they refuse.
   */
  private regateEarly(): void {
    for (const device of [...this.dirty]) {
      for (const feature of Object.keys(device.pending ?? {}) as Feature[]) {
        const refusal = this.gate.refusal(feature, device)
        if (refusal) this.dropPending(device, feature, refusal)
      }
    }
    this.preReady = this.preReady.filter((entry) => {
      const refusal = this.gate.refusal(entry.feature, entry.device)
      if (refusal) this.refuse(entry.feature, refusal, entry.events, undefined, () => [this.paramsOf(entry)])
      return refusal === undefined
    })
  }

  reportError(error: Error): void {
    this.logger.debug(`internal error: ${error.stack ?? error.message}`)
    this.emitter.emit('error', error)
  }

  stats() {
    return {
      // Requests made before storage opened wait in memory; they are queued all the same.
      queued: this.queue.size + this.preReady.length,
      ...this.counters,
      pendingEvents: this.pendingTotal,
    }
  }

  /** Deliver what is queued now; resolves when the queue is empty or delivery is failing. */
  async flush(): Promise<void> {
    await this.ready
    this.flushPending()
    await this.persister.persist()
    await this.sender?.drain()
    await this.persister.persist()
  }

  /** Stop timers, deliver within the deadline, keep the rest in storage. */
  async close(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    const remaining = () => Math.max(0, deadline - Date.now())
    await withTimeout(this.ready, remaining())
    for (const timer of this.timers) clearInterval(timer)
    this.timers = []
    // Sessions of other devices (adapters keep one per user) cannot outlive the process: end them at their last activity.
    for (const device of this.devices.values()) {
      if (device.sessionActive) endSessionOf(this, device, device.lastActivity)
    }
    this.flushPending()
    // Health goes last: the host's data first, in the order it was recorded.
    this.health.report(this)
    this.closed = true
    await withTimeout(this.persister.persist(), remaining())
    let pause = 100
    while (this.sender && this.queue.size > 0 && remaining() > 0 && this.maySend()) {
      await withTimeout(this.sender.drain(), remaining())
      if (this.queue.size === 0 || remaining() === 0) break
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, remaining())).unref())
      pause = Math.min(pause * 2, 1_000)
    }
    this.sender?.stop()
    this.transport?.close()
    const left = this.queue.peek(this.queue.size)
    if (left.length > 0) {
      if (this.persister.durable) {
        const events = left.reduce((sum, request) => sum + request.events, 0)
        this.logger.notice(
          `shutdown: ${left.length} request(s) (${events} event(s)) not delivered yet; kept in storage for the next start`,
        )
      } else {
        this.dropRequests(left, 'shutdown', 'memory storage cannot keep it past shutdown')
        this.logger.warn(
          `shutdown: ${left.length} request(s) could not be delivered and are lost (memory storage)`,
        )
      }
    }
    await withTimeout(this.persister.close(), Math.max(remaining(), 500))
  }
}

/** A stored request's parameters; nothing for one that is not valid JSON. */
function parsedBody(request: QueuedRequest): Record<string, unknown>[] {
  try {
    return [JSON.parse(request.body) as Record<string, unknown>]
  } catch {
    return []
  }
}

/**
 * Attach `payloads` to a `dropped` info: built on first read (a listener
 * that never reads it costs nothing), not enumerable (kept out of logs).
 */
function withPayloads(info: DropInfo, build: () => Record<string, unknown>[]): DropInfo {
  let built: Record<string, unknown>[] | undefined
  return Object.defineProperty(info, 'payloads', {
    get: () => {
      try {
        built ??= build()
      } catch {
        built = []
      }
      return built
    },
    enumerable: false,
  })
}

function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    timer.unref()
    promise.then(
      () => {
        clearTimeout(timer)
        resolve()
      },
      () => {
        clearTimeout(timer)
        resolve()
      },
    )
  })
}
