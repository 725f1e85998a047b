/**
 * Public types of `@telemeter/core`. Everything here is part of the API
 * contract; internal shapes live under `src/internal/`.
 */

/** A logger in the shape of `console`. Every line Telemeter writes starts with `[telemeter]`. */
export interface Logger {
  debug(message: string, ...details: unknown[]): void
  info(message: string, ...details: unknown[]): void
  warn(message: string, ...details: unknown[]): void
  error(message: string, ...details: unknown[]): void
}

/**
 * Features that consent and the operator policy switch on and off. Names are
 * those of the Countly SDKs, so consent recorded by Telemeter reads the same
 * on the server as consent recorded by the web or mobile SDKs.
 */
export type Feature =
  | 'sessions'
  | 'events'
  | 'views'
  | 'crashes'
  | 'apm'
  | 'users'
  | 'location'
  | 'feedback'
  | 'star-rating'
  | 'remote-config'
  | 'attribution'

/** Operator policy: which features may run at all. Every feature is on unless set to `false`. */
export type TrackingPolicy = { [F in Feature]?: boolean }

/** The switches of the operator policy an admin page shows (`star-rating` is `feedback` under its consent name). */
export type TrackingSwitch = Exclude<Feature, 'star-rating' | 'attribution'>

/**
 * A request as the storage layer keeps it: the JSON text of its `/i`
 * parameters, plus the bookkeeping the queue needs.
 */
export interface StoredRequest {
  /** Sequence number, unique and increasing within one storage. */
  readonly id: number
  /** The feature the request belongs to, so a feature switched off can be purged. */
  readonly feature: Feature | 'internal'
  /** JSON text of the request parameters, exactly as it will be sent. */
  readonly body: string
}

/** What a storage adapter hands back when it is opened. */
export interface StoredData {
  /** Requests still to be delivered, oldest first. */
  readonly requests: readonly StoredRequest[]
  /** Small persisted values (device id, consent, remote-config cache, counters). */
  readonly values: Readonly<Record<string, string>>
  /** Records that could not be read back (torn or corrupted), already discarded. */
  readonly corruptRecords?: number
}

/**
 * Persistence behind the queue. Every method is asynchronous and may fail;
 * Telemeter then degrades to memory with one warning instead of failing the host.
 * Calls are never concurrent: each one starts after the previous one settled.
 *
 * @example
 * ```ts
 * const storage: StorageAdapter = {
 *   async open() { return { requests: [], values: {} } },
 *   async append(requests) { await db.insert(requests) },
 *   async remove(ids) { await db.delete(ids) },
 *   async setValue(key, value) { await kv.set(key, value) },
 *   async close() {},
 * }
 * createTelemeter({ url, appKey, storage })
 * ```
 */
export interface StorageAdapter {
  /** Load what a previous run left. Called once, before anything else. */
  open(): Promise<StoredData>
  /** Persist new requests, in order. */
  append(requests: readonly StoredRequest[]): Promise<void>
  /** Forget delivered or dropped requests. */
  remove(ids: readonly number[]): Promise<void>
  /** Persist a small value; `null` deletes it. */
  setValue(key: string, value: string | null): Promise<void>
  /** Flush and release everything (files, locks). */
  close(): Promise<void>
  /**
   * Optional last-chance synchronous append, used only when the process is
   * about to die of an uncaught exception (`captureUncaught`).
   */
  appendSync?(requests: readonly StoredRequest[]): void
}

/** Limits applied to what the host records, as in the Countly SDKs. */
export interface Limits {
  /** Longest event key, segmentation key or trace name kept. @default 128 */
  keyLength?: number
  /** Longest string value kept. @default 256 */
  valueSize?: number
  /** Most segmentation entries per event. @default 100 */
  segmentationValues?: number
  /** Most breadcrumbs kept for the next crash. @default 100 */
  breadcrumbCount?: number
  /** Most stack lines per crash. @default 30 */
  stackTraceLines?: number
  /** Longest stack line. @default 200 */
  stackTraceLineLength?: number
}

/** Configuration of {@link createTelemeter}. Only `url` and `appKey` are required. */
export interface TelemeterConfig {
  /** Countly server URL, with an optional path prefix (`https://example.com/countly`). */
  url: string
  /** The app key of the Countly app. */
  appKey: string
  /**
   * Device id of this process. When unset a random UUID is generated once and
   * kept in storage, so restarts report as the same device.
   * @default undefined
   */
  deviceId?: string
  /** Version of the host application, sent as `_app_version`. @default the host package's version, else "0.0.0" */
  appVersion?: string
  /** Where the queue lives. @default 'file' */
  storage?: 'file' | 'memory' | StorageAdapter
  /** Directory of the file storage. @default '.telemeter' */
  storagePath?: string
  /** Checksum salt of the app; every request then carries `checksum256` and bulk is not used. @default undefined */
  salt?: string
  /** Always use POST for `/i`, never GET. @default false */
  forcePost?: boolean
  /** Record nothing until consent is given. @default false */
  requireConsent?: boolean
  /** Operator policy per feature. @default every feature on */
  tracking?: TrackingPolicy
  /** Kill switch: nothing is queued, stored or sent. Also `TELEMETER_DISABLED=1` or `DO_NOT_TRACK=1`. @default false */
  disabled?: boolean
  /**
   * `true` logs everything through `console`, a logger object receives every
   * line. `'print'` prints every payload instead of sending it. Warnings and
   * errors are always logged.
   * @default false
   */
  debug?: boolean | 'print' | Logger
  /**
   * `'auto'` begins a session for the process's own device on start, extends
   * it every `sessionUpdateIntervalMs` and ends it on `shutdown()`.
   * @default 'auto'
   */
  sessions?: 'auto' | 'manual'
  /** How often an automatic session is extended. @default 60_000 */
  sessionUpdateIntervalMs?: number
  /** How long recorded events wait before they are batched into a request and persisted. @default 500 */
  flushIntervalMs?: number
  /** Most events merged into one request. @default 100 */
  maxEventsPerRequest?: number
  /** Most requests sent in one `/i/bulk` call. @default 50 */
  bulkSize?: number
  /** Most requests kept queued; the oldest is dropped (and counted) beyond it. @default 10_000 */
  maxQueueSize?: number
  /** Abort a request to the server after this long. @default 10_000 */
  requestTimeoutMs?: number
  /** Extra HTTP headers on every request to the server. @default {} */
  headers?: Record<string, string>
  /** HTTP(S) agent for requests to the server (a proxy agent, say). @default a keep-alive agent */
  agent?: import('node:http').Agent
  /** Limits applied to recorded data. */
  limits?: Limits
  /** Most per-device states kept in memory (least recently used are evicted). @default 10_000 */
  maxDevices?: number
  /** A device idle this long loses its in-memory state (pending data is flushed first). @default 1_800_000 */
  deviceIdleMs?: number
  /** `auto: true` fetches remote config on start and again after a device-id change. @default { auto: false } */
  remoteConfig?: { auto?: boolean }
  /**
   * Report `uncaughtException` and `unhandledRejection` as fatal crashes and
   * write them to disk before Node's own handling runs (which is unchanged:
   * the process still exits with the same code and message).
   * @default false
   */
  captureUncaught?: boolean
  /**
   * Replace device ids, user ids and emails in everything sent with a salted
   * SHA-256 (hex). The salt is generated once, kept in local storage and never sent.
   * @default false
   */
  hashIdentifiers?: boolean
  /** Metrics merged over the automatic ones (`_os`, `_app_version`...) of session starts and remote-config requests. @default {} */
  metrics?: Record<string, string>
  /** Country of the instance's device, sent with every session start (ISO 3166-1 alpha-2). */
  countryCode?: string
  /** City of the instance's device (only with `countryCode`). */
  city?: string
  /** IP address to geo-locate the instance's device by. */
  ip?: string
  /**
   * Adjust each HTTP request to the server before it leaves: headers, a proxy
   * agent, the user agent. Mutate the object; a throwing hook is ignored with a warning.
   * @example beforeRequest: (request) => { request.headers['x-api-gateway-key'] = process.env.GATEWAY_KEY! }
   */
  beforeRequest?: (request: OutgoingRequest) => void
  /** Backoff between failed deliveries: exponential from `baseDelayMs` up to `maxDelayMs`, with jitter. @default { baseDelayMs: 1_000, maxDelayMs: 300_000 } */
  retry?: { baseDelayMs?: number; maxDelayMs?: number }
  /** Fetch the server-side SDK settings (`/o/sdk?method=sc`) on start and every `scui` hours. @default true */
  serverConfig?: boolean
}

/** An HTTP request to the Countly server, as {@link TelemeterConfig.beforeRequest} sees it. */
export interface OutgoingRequest {
  readonly method: 'GET' | 'POST'
  /** Full URL, with the query string for GET. */
  readonly url: URL
  /** Mutable request headers (lower-case names). */
  headers: Record<string, string>
  /** Agent to send through (set a proxy agent here). */
  agent: import('node:http').Agent | undefined
}

/** Options of {@link DeviceScope.reportConversion}. */
export interface ConversionOptions {
  /** The campaign id from Countly's attribution. */
  campaignId: string
  /** The campaign user id, when known. */
  campaignUser?: string
}

/** Options of a custom event. */
export interface EventOptions {
  /** How many times it happened. @default 1 */
  count?: number
  /** A number to add up (a price, a size). */
  sum?: number
  /** Duration in seconds. */
  dur?: number
  /** Segments: string, number or boolean values, or short arrays of them. */
  segmentation?: Record<string, unknown>
}

/** Why data did not reach the server. */
export type DropReason =
  /** the queue was full: the oldest request made room */
  | 'queue-full'
  /** the server rejected it permanently (unknown app, bad checksum, ...) */
  | 'rejected'
  /** the operator policy switched its feature off */
  | 'policy'
  /** consent for its feature is missing or was removed */
  | 'consent'
  /** the input could not be made valid */
  | 'invalid'
  /** a kill switch is on */
  | 'disabled'
  /** memory storage could not deliver it before shutdown */
  | 'shutdown'
  /** older than the server's `dort` setting allows */
  | 'expired'

/** Payload of the `dropped` event. */
export interface DropInfo {
  readonly reason: DropReason
  /** Requests dropped (0 when data was refused before becoming a request). */
  readonly requests: number
  /** Events inside what was dropped (custom events, views, ratings...). */
  readonly events: number
  /** Feature of the dropped data. */
  readonly feature: Feature | 'internal'
  /** Server message or a human explanation. */
  readonly detail?: string
  /**
   * What was dropped, for dead-lettering or auditing: the `/i` parameters of
   * each dropped request exactly as they would have been sent (`events`,
   * `crash`... parsed). Events refused before they were batched into a
   * request come as `{ device_id, events }`, each event as far as it was
   * built (a refused `event()` call keeps the key and options it was given).
   * Absent when nothing identifiable is left (records corrupted on disk,
   * refusals of other kinds). Built on first read, so a listener that never
   * reads it costs nothing; not enumerable, so logging the info or
   * `JSON.stringify(info)` leaves it out.
   * @default undefined
   * @example
   * telemeter.on('dropped', (info) => {
   *   if (info.reason === 'rejected') deadLetters.push(...(info.payloads ?? []))
   * })
   */
  readonly payloads?: readonly Readonly<Record<string, unknown>>[]
}

/** Payload of the `sent` event. */
export interface SentInfo {
  readonly requests: number
  readonly events: number
  readonly endpoint: '/i' | '/i/bulk'
}

/** Counters since creation. */
export interface TelemeterStats {
  /** Requests waiting in the queue. */
  readonly queued: number
  /** Requests the server accepted. */
  readonly sent: number
  /** Delivery attempts that failed and were scheduled again. */
  readonly retried: number
  /** Requests dropped, for any reason. */
  readonly dropped: number
  /** Events (custom events, views, ratings) the server accepted. */
  readonly sentEvents: number
  /** Events dropped, for any reason. */
  readonly droppedEvents: number
  /** Events recorded but not yet batched into a request. */
  readonly pendingEvents: number
}

/** Listeners of {@link Telemeter.on}. */
export interface TelemeterEventMap {
  error: (error: Error) => void
  sent: (info: SentInfo) => void
  dropped: (info: DropInfo) => void
}

/** Which switch decided whether telemetry runs, in the documented order of precedence. */
export type StatusDecider =
  | 'DO_NOT_TRACK'
  | 'TELEMETER_DISABLED'
  | 'config.disabled'
  | 'operator'
  | 'server'
  | 'default'

/** What {@link Telemeter.status} reports: enough for an admin page or a `status` CLI command. */
export interface TelemeterStatus {
  /** Telemetry records and sends. */
  readonly enabled: boolean
  /** The switch that decided. */
  readonly decidedBy: StatusDecider
  /** One sentence for humans. */
  readonly reason: string
  /** Effective per-feature policy (operator policy and the server's switches together). */
  readonly tracking: Readonly<Record<Feature, boolean>>
  readonly consentRequired: boolean
  /** Features the instance's own device has consent for (all of them when consent is not required). */
  readonly consent: readonly Feature[]
  /** Payloads are printed instead of sent (`debug: 'print'` or `TELEMETER_DEBUG=1`). */
  readonly printOnly: boolean
  readonly identifiersHashed: boolean
  /** Where data goes (scheme, host and path; never the app key). */
  readonly server: string
  readonly storage: { readonly kind: 'file' | 'memory' | 'custom'; readonly durable: boolean }
  readonly stats: TelemeterStats
}

/** Options of {@link Telemeter.shutdown}. */
export interface ShutdownOptions {
  /** Longest time to spend delivering what is queued. @default 2_000 */
  timeoutMs?: number
}

/** Options of {@link DeviceScope.reportTrace} (an APM trace, PROTOCOL §2.13). */
export interface TraceOptions {
  /** `network` for HTTP requests, `device` for anything else (custom traces). */
  type: 'network' | 'device'
  /**
   * Trace name. Network traces may be route templates (`GET /users/:id`);
   * device traces must match `^[a-zA-Z][a-zA-Z0-9_]*$` and be at most 32 characters.
   */
  name: string
  /** Start, epoch ms. @default etz minus the duration metric */
  stz?: number
  /** End, epoch ms. @default now */
  etz?: number
  /**
   * Network: `response_time` (ms), `response_code`, `request_payload_size`,
   * `response_payload_size` (bytes). Device: `duration` (ms) plus custom numeric metrics.
   */
  metrics?: Record<string, number>
}

/** A running custom trace from {@link DeviceScope.startTrace}. */
export interface TraceHandle {
  /** Stop the clock and report the trace, with optional custom numeric metrics. */
  end(metrics?: Record<string, number>): void
}

/** Options of {@link DeviceScope.captureError}. */
export interface CaptureErrorOptions {
  /** The error ended (or will end) the process. @default false */
  fatal?: boolean
  /** Context sent as the crash's custom fields. */
  segmentation?: Record<string, unknown>
}

/** Options of {@link DeviceScope.fetchRemoteConfig}. */
export interface RemoteConfigOptions {
  /** Fetch only these keys (the cache keeps the others). */
  keys?: string[]
  /** Fetch everything except these keys. */
  omitKeys?: string[]
}

/** Options of {@link DeviceScope.setLocation}; every field is optional. */
export interface LocationOptions {
  /** ISO 3166-1 alpha-2 country code, e.g. `DE`. */
  countryCode?: string
  /** City name; sent only together with `countryCode`. */
  city?: string
  latitude?: number
  longitude?: number
  /** IPv4 or IPv6 address to geo-locate. */
  ip?: string
}

/** Options of {@link DeviceScope.recordRating}. */
export interface RatingOptions {
  /** 1 to 5. */
  rating: number
  comment?: string
  email?: string
  contactMe?: boolean
  /** The rating widget's id, when the rating comes from one. */
  widgetId?: string
}

/** Profile fields of {@link DeviceScope.setUserDetails} (PROTOCOL §2.12). */
export interface UserDetails {
  name?: string
  username?: string
  email?: string
  organization?: string
  phone?: string
  /** Picture URL (up to 4096 characters). */
  picture?: string
  gender?: 'M' | 'F'
  /** Birth year. */
  byear?: number
  /** Custom properties: string, number or boolean values. */
  custom?: Record<string, string | number | boolean>
}

/** Custom-property operations, sent together by `save()`. */
export interface UserData {
  set(key: string, value: string | number | boolean): void
  setOnce(key: string, value: string | number | boolean): void
  /** Remove the property. */
  unset(key: string): void
  increment(key: string): void
  incrementBy(key: string, amount: number): void
  multiply(key: string, factor: number): void
  /** Keep the larger of the stored value and `value`. */
  max(key: string, value: number): void
  /** Keep the smaller of the stored value and `value`. */
  min(key: string, value: number): void
  /** Append one value or several to an array property. */
  push(key: string, value: string | number | boolean | (string | number | boolean)[]): void
  /** Append values not yet in the array property. */
  pushUnique(key: string, value: string | number | boolean | (string | number | boolean)[]): void
  /** Remove values from the array property. */
  pull(key: string, value: string | number | boolean | (string | number | boolean)[]): void
  /** Send the pending operations. */
  save(): void
}

/** Options of {@link DeviceScope.changeDeviceId}. */
export interface ChangeDeviceIdOptions {
  /**
   * `true`: the same person under a new id: the server merges the old id's
   * data into the new one. `false`: a different person from now on.
   */
  merge: boolean
}

/**
 * Everything that can be recorded for one device. The `Telemeter` is the
 * scope of its own device; `telemeter.forDevice(id)` makes others.
 */
export interface DeviceScope {
  /** The device id this scope reports as (before identifier hashing). */
  readonly deviceId: string
  /**
   * Record a custom event.
   * @example telemeter.event('purchase', { sum: 9.99, segmentation: { plan: 'pro' } })
   */
  event(key: string, options?: EventOptions): void
  /** Start a timed event; `endEvent` records it with its duration. */
  startEvent(key: string): void
  /** End a timed event and record it with `dur` in seconds. */
  endEvent(key: string, options?: EventOptions): void
  /** Forget a timed event without recording it. */
  cancelEvent(key: string): void
  /** Begin a session (ignored while one is running). */
  beginSession(): void
  /** Report the time since the last session update. */
  extendSession(): void
  /** End the running session. */
  endSession(): void
  /**
   * Report an error as a crash (non-fatal unless `fatal: true`), with the
   * breadcrumbs recorded so far.
   * @example telemeter.captureError(error, { segmentation: { job: 'nightly-sync' } })
   */
  captureError(error: unknown, options?: CaptureErrorOptions): void
  /** Add a line to the bounded log sent with the next crash. */
  addBreadcrumb(message: string): void
  /**
   * Report an APM trace.
   * @example telemeter.reportTrace({ type: 'network', name: 'GET /users/:id', metrics: { response_time: 12, response_code: 200 } })
   */
  reportTrace(trace: TraceOptions): void
  /**
   * Start a custom trace; `end()` reports it with its duration.
   * @example const trace = telemeter.startTrace('import_csv'); await work(); trace.end({ rows: 1200 })
   */
  startTrace(key: string): TraceHandle
  /**
   * Record a view (a screen, page or section); the previous view's duration is reported.
   * @example telemeter.view('settings/users')
   */
  view(name: string, segmentation?: Record<string, unknown>): void
  /**
   * Set profile fields of this device's user.
   * @example scope.setUserDetails({ name: 'Ada', organization: 'Acme', custom: { plan: 'pro' } })
   */
  setUserDetails(details: UserDetails): void
  /**
   * Custom-property operations, sent by `userData.save()`.
   * @example scope.userData.increment('logins'); scope.userData.pushUnique('tags', 'beta'); scope.userData.save()
   */
  readonly userData: UserData
  /** Set the location (country, city, GPS or IP); sent now in a session, else with the next session start. */
  setLocation(location: LocationOptions): void
  /** Opt out of location: the server erases what it stored and geo-IP is not used. */
  disableLocation(): void
  /**
   * Record a star rating (1-5).
   * @example scope.recordRating({ rating: 5, comment: 'Great export', widgetId: 'w1' })
   */
  recordRating(rating: RatingOptions): void
  /** Give consent to features or groups (when `requireConsent` is set). */
  giveConsent(...features: (Feature | string)[]): void
  /** Remove consent; queued data of those features is dropped. */
  removeConsent(...features: (Feature | string)[]): void
  /** Whether a feature (or every feature of a group) may record. */
  hasConsent(feature: Feature | string): boolean
  /**
   * Fetch remote config values; resolves with the cache when the server cannot be reached. Never rejects.
   * @example const { dark_mode } = await telemeter.fetchRemoteConfig({ keys: ['dark_mode'] })
   */
  fetchRemoteConfig(options?: RemoteConfigOptions): Promise<Record<string, unknown>>
  /** Cached remote config: all values, or one key's value. */
  getRemoteConfig(): Record<string, unknown>
  getRemoteConfig(key: string): unknown
  /**
   * Change this scope's device id.
   * @example telemeter.forDevice(anonymousId).changeDeviceId(user.id, { merge: true })
   */
  changeDeviceId(newId: string, options: ChangeDeviceIdOptions): void
  /**
   * Report an attribution conversion; sent once per device, later calls are ignored.
   * @example telemeter.forDevice(user.id).reportConversion({ campaignId: 'spring-sale' })
   */
  reportConversion(conversion: ConversionOptions): void
  /**
   * Queue a raw `/i` request with your own parameters; only the missing
   * protocol parameters (app_key, device_id, time and SDK fields) are added.
   * @example telemeter.request({ events: [{ key: 'imported', count: 3 }] })
   */
  request(params: Record<string, unknown>): void
}

/** A Telemeter instance: the scope of its own device plus delivery control. */
export interface Telemeter extends DeviceScope {
  /**
   * A scope for another device, sharing this instance's queue.
   * @example telemeter.forDevice(user.id).event('login')
   */
  forDevice(deviceId: string): DeviceScope
  /** Batch pending events and deliver everything queued; resolves when the queue is empty or delivery is failing. */
  flush(): Promise<void>
  /** End the automatic session, deliver what can be delivered within `timeoutMs`, keep the rest on disk. Idempotent. */
  shutdown(options?: ShutdownOptions): Promise<void>
  /** Counters since creation. */
  stats(): TelemeterStats
  /**
   * Listen to `error`, `sent` and `dropped`. Returns a function that removes the listener.
   * @example telemeter.on('dropped', (info) => metrics.increment(`telemetry.dropped.${info.reason}`))
   */
  on<K extends keyof TelemeterEventMap>(type: K, listener: TelemeterEventMap[K]): () => void
  /** Remove a listener added with `on`. */
  off<K extends keyof TelemeterEventMap>(type: K, listener: TelemeterEventMap[K]): void
  /**
   * Name groups of features for consent calls.
   * @example telemeter.groupFeatures({ activity: ['sessions', 'events', 'views'] }); telemeter.giveConsent('activity')
   */
  groupFeatures(groups: Record<string, Feature[]>): void
  /**
   * Change the operator policy at run time; queued, unsent data of every
   * feature switched off is dropped.
   * @example telemeter.setTracking({ crashes: false })
   */
  setTracking(policy: TrackingPolicy): void
  /**
   * The operator's choice, kept in storage across restarts (the fourth off
   * switch, after `DO_NOT_TRACK`, `TELEMETER_DISABLED` and `disabled`).
   * Switching off drops everything queued and sends nothing more.
   * @example app.post('/admin/telemetry', (req, res) => { telemeter.setEnabled(req.body.enabled); res.json(telemeter.status()) })
   */
  setEnabled(enabled: boolean): void
  /** Whether telemetry runs, and which switch decided. */
  status(): TelemeterStatus
  /** Report the `app_start` trace: from process start to this call. Once per process. */
  reportAppStart(): void
  /**
   * Product telemetry for self-hosted software: an anonymous instance id,
   * uptime (start, heartbeat, stop), feature usage and visited sections
   * counted per day, server errors and operator-supplied server properties.
   * One handle per Telemeter: later calls return the first handle.
   * @example
   * ```ts
   * const instance = telemeter.instance({ properties: () => ({ users: db.countUsers() }) })
   * instance.count('report.created')
   * instance.section('settings/users')
   * ```
   */
  instance(options?: InstanceOptions): InstanceTelemetry
}

/** Server properties sampled with each heartbeat: counts and flags, never personal data. */
export type InstanceProperties = Record<string, number | string | boolean>

/** Options of {@link Telemeter.instance}. */
export interface InstanceOptions {
  /**
   * Time between two heartbeats (each carries the uptime and a fresh sample
   * of `properties`). At least one minute.
   * @default 21_600_000 (6 hours)
   */
  heartbeatIntervalMs?: number
  /**
   * Server properties (user count, storage backend, plan...), sampled at
   * start and with each heartbeat and sent as custom user properties of the
   * instance's device. May be async. A callback that throws, or answers
   * later than `propertiesTimeoutMs`, is skipped for that sample with one warning.
   * @default undefined
   * @example properties: async () => ({ users: await db.users.count(), storage: 's3', sso: true })
   */
  properties?: () => InstanceProperties | Promise<InstanceProperties>
  /** Longest wait for `properties` per sample. @default 1_000 */
  propertiesTimeoutMs?: number
  /**
   * Record product telemetry in CI too. When the `CI` environment variable is
   * set (and not `0` or `false`), product telemetry is off unless this is true.
   * @default false
   */
  trackCI?: boolean
}

/** Which switch decided whether product telemetry runs: those of {@link StatusDecider}, then `CI`. */
export type InstanceDecider = StatusDecider | 'CI'

/** What {@link InstanceTelemetry.status} reports. */
export interface InstanceStatus {
  /** Product telemetry records and sends. */
  readonly enabled: boolean
  readonly decidedBy: InstanceDecider
  /** One sentence for humans. */
  readonly reason: string
  /** The anonymous instance id; undefined until telemetry was first allowed to run. */
  readonly instanceId: string | undefined
  /** Seconds since `instance()` was called. */
  readonly uptimeSeconds: number
  readonly heartbeatIntervalMs: number
  /** UTC day (`YYYY-MM-DD`) whose usage counts are being collected. */
  readonly countingDay: string
}

/**
 * Product telemetry of one installation, from {@link Telemeter.instance}.
 * It reports under its own random device id (never a hostname or an IP) and
 * honours every off switch, the operator policy and `CI`. Nothing here
 * throws, blocks or waits for the network.
 */
export interface InstanceTelemetry {
  /** The anonymous instance id; undefined until telemetry is first allowed to run. */
  readonly instanceId: string | undefined
  /**
   * Count a feature use. Counts add up per UTC day in storage (surviving
   * restarts) and each key is sent once per day with the day's total.
   * Follows the `events` switch.
   * @default n = 1
   * @example instance.count('report.created'); instance.count('rows.imported', 1200)
   */
  count(key: string, n?: number): void
  /**
   * Count a visit of a section of the product, per day like `count`.
   * Follows the `views` switch.
   * @example instance.section('settings/users')
   */
  section(name: string): void
  /**
   * Report a server error under the instance's device. Follows the `crashes` switch.
   * @example instance.captureError(error, { segmentation: { job: 'backup' } })
   */
  captureError(error: unknown, options?: CaptureErrorOptions): void
  /** Forget the instance id; a new random one is created the next time telemetry may run. */
  resetInstanceId(): void
  /** Whether product telemetry runs, which switch decided, and the instance id. */
  status(): InstanceStatus
}

/** A rule of {@link HttpInstrumentationOptions.ignore}: an exact path (`'/internal/*'` for a prefix), a RegExp tested on the path, or a predicate on the request. */
export type IgnoreRule<Req = unknown> = string | RegExp | ((req: Req) => boolean)

/** Options shared by the HTTP adapters (Express, Koa, Nest). */
export interface HttpInstrumentationOptions<Req = unknown> {
  /**
   * Device id of a request. When it returns nothing, `req.user.id` /
   * `req.user._id`, then the `x-device-id` header are used; else the
   * instance's own device.
   * @example deviceId: (req) => req.session?.userId
   */
  deviceId?: (req: Req) => string | number | null | undefined
  /** Requests not to record, in addition to the defaults (health, readiness, metrics, favicon, OPTIONS). @default [] */
  ignore?: IgnoreRule<Req>[]
  /** Set `false` to drop the default ignore rules. @default true */
  ignoreDefaults?: boolean
  /** Fraction of requests traced, from 0 to 1. Errors and 5xx are always traced. @default 1 */
  sampleRate?: number
  /** Decide per request whether to trace it (replaces `sampleRate`). Errors and 5xx are always traced. */
  sampler?: (req: Req) => boolean
  /** Decide whether an error becomes a crash report. @default only errors without a status below 500 and not `expose: true` */
  shouldCaptureError?: (error: unknown, req: Req) => boolean
  /** Sessions per device: begin on the first request, extend on activity, end after `sessionIdleMs` of silence. @default true */
  sessions?: boolean
  /** Silence after which a device's session ends. @default 1_800_000 (30 minutes) */
  sessionIdleMs?: number
  /** Send the client IP with each device's session start (for geo-location). @default false */
  trackIp?: boolean
  /** Header carrying a device id. @default 'x-device-id' */
  deviceIdHeader?: string
}

/** What an adapter knows about a request when it starts. */
export interface HttpRequestFacts {
  readonly method: string
  /** Path without query string. */
  readonly path: string
  readonly headers: import('node:http').IncomingHttpHeaders
  /**
   * The authenticated user, if the framework has one (`req.user`, `ctx.state.user`).
   * Read when the request's device is resolved (first use of its scope, at the
   * latest when the response is recorded), so an adapter may pass a getter.
   */
  readonly user?: unknown
  /** Client IP (used only with `trackIp`). */
  readonly ip?: string
}

/** What an adapter knows when the response is done. */
export interface HttpResponseFacts {
  /** Route template (`/users/:id`), undefined when no route matched. */
  readonly route: string | undefined
  readonly status: number
  readonly requestBytes?: number
  readonly responseBytes?: number
  /**
   * Start (epoch ms) when the adapter timed the request itself (an exported
   * OpenTelemetry span). @default the time `start()` was called
   */
  readonly startedAtMs?: number
  /**
   * Duration (ms) when the adapter timed the request itself, for requests
   * reported after they ended. @default the time since `start()`
   */
  readonly responseTimeMs?: number
}

/** Body bytes written to one response so far, from `countResponseBytes(res)`. */
export interface ResponseByteCount {
  readonly bytes: number
}

/** Body bytes of a request read so far, as returned by `countRequestBytes`. */
export interface RequestByteCount {
  readonly bytes: number
}

/** One request in flight, as returned by {@link HttpInstrumentation.start}. */
export interface HttpRequestRecord {
  /**
   * The request's device scope (what `req.telemeter` should be). Its device is
   * resolved on first use, so `deviceId(req)` and `user` can see what
   * authentication middleware running after the adapter set.
   */
  readonly scope: DeviceScope
  readonly startedAt: number
  readonly startedAtMs: number
  readonly method: string
  readonly sampled: boolean
  errorReported: boolean
}

/** The framework-neutral half of an HTTP adapter; see `createHttpInstrumentation`. */
export interface HttpInstrumentation<Req = unknown> {
  /** Begin a request; undefined when it is ignored. */
  start(req: Req, facts: HttpRequestFacts): HttpRequestRecord | undefined
  /** Report a thrown error once per request; true when it became a crash. */
  captureError(record: HttpRequestRecord, error: unknown, req: Req, facts: HttpResponseFacts): boolean
  /** Record the network trace (and a crash for a 5xx without an error). */
  finish(record: HttpRequestRecord, facts: HttpResponseFacts): void
}
