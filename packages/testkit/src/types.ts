/**
 * Options of {@link startTestServer}. Every option has a default, so
 * `startTestServer()` gives a server that accepts the app key `TEST_APP_KEY`.
 *
 * @example
 * const server = await startTestServer({ appKey: ['APP_A', 'APP_B'], salt: 's3cret', sessionCooldownS: 0 })
 */
export interface TestServerOptions {
  /**
   * App key(s) the server knows. Any other key is answered with
   * 400 `{"result":"App does not exist"}`.
   * @default 'TEST_APP_KEY'
   */
  appKey?: string | string[]
  /**
   * Checksum salt of the app(s). When set, `/i` and `/o/sdk` requests must carry
   * a valid `checksum` (SHA-1) or `checksum256` (SHA-256), and `/i/bulk` items
   * are rejected because a real server cannot process them (PROTOCOL §2.1).
   * @default undefined (no checksum)
   */
  salt?: string
  /**
   * TCP port. `0` picks a free port; read it back from `server.port`.
   * @default 0
   */
  port?: number
  /**
   * Interface to listen on.
   * @default '127.0.0.1'
   */
  host?: string
  /**
   * Like Countly's `config.path`: a leading path segment such as `/countly`
   * that is stripped before routing. `server.url` includes it.
   * @default undefined
   */
  pathPrefix?: string
  /**
   * Values served by `/o/sdk?method=rc` and `method=fetch_remote_config`
   * (`keys` and `omit_keys` are honoured).
   * @default {}
   */
  remoteConfig?: Record<string, unknown>
  /**
   * The `c` object served by `/o/sdk?method=sc` as `{"v":2,"t":<ms>,"c":{…}}`.
   * @default {}
   */
  sdkConfig?: Record<string, unknown>
  /**
   * Countly's `api.prevent_duplicate_requests`: a request whose hash equals the
   * user's last accepted request hash is ignored (PROTOCOL §2.3).
   * @default true
   */
  preventDuplicateRequests?: boolean
  /**
   * Countly's `api.session_cooldown` in seconds: a `begin_session` within this
   * time of the last `end_session` continues the previous session. With `0`,
   * ended sessions are finalised (their `[CLY]_session` event written) at once.
   * @default 15
   */
  sessionCooldownS?: number
  /**
   * Countly's `api.safe` for `/i/bulk`: `true` answers after every item was
   * processed (ingestor behaviour), `false` answers first and processes after.
   * @default true
   */
  safe?: boolean
}

/**
 * One HTTP request as it arrived, with the answer the server gave.
 *
 * @example
 * const bulk = server.requests.filter((r) => r.endpoint === '/i/bulk')
 * expect(bulk[0]?.status).toBe(200)
 */
export interface ReceivedHttpRequest {
  /** Upper-case HTTP method. */
  method: string
  /** Path without the query string, as received (prefix included). */
  path: string
  /** Route after the path prefix was stripped: `/i`, `/i/bulk`, `/o/sdk`, `/o/ping`, or the unknown path. */
  endpoint: string
  /** Parsed query string (repeated keys become arrays, as in Countly). */
  query: Record<string, string | string[]>
  /** Raw query string without `?`, still percent-encoded (used for checksums and dedupe). */
  rawQuery: string
  /** Raw request body (empty for GET). */
  body: string
  /** Request headers (lower-case names). */
  headers: Record<string, string | string[] | undefined>
  /** HTTP status answered; `undefined` while pending or when the socket was reset / left hanging. */
  status: number | undefined
  /** Body answered (truncated to 64 KiB for huge fault bodies); `undefined` when nothing was answered. */
  responseBody: string | undefined
  /** Fault applied to this request, if any. */
  fault: Fault['type'] | undefined
  /** `Date.now()` when the request arrived. */
  receivedAt: number
}

/**
 * What the server did with one `/i` request or `/i/bulk` item: `processed`,
 * `duplicate` (same hash as the user's last accepted request), `ignored`
 * (answered 200 but nothing stored, e.g. the zero device id or a skipped bulk
 * item) or `rejected` (4xx, checksum failure, unknown app).
 *
 * @example
 * const outcomes: IngestOutcome[] = server.items.map((i) => i.outcome)
 */
export type IngestOutcome = 'processed' | 'duplicate' | 'ignored' | 'rejected'

/**
 * One `/i` request or expanded `/i/bulk` item, in processing order.
 *
 * @example
 * expect(server.items.map((i) => i.outcome)).toEqual(['processed', 'duplicate'])
 */
export interface IngestedRequest {
  /** How it arrived: a GET or POST to `/i`, or an item of a `/i/bulk` call. */
  via: 'GET' | 'POST' | 'bulk'
  /** Parameters after merging query and body; nested JSON params (`events`, `metrics`, `user_details`, …) are parsed. */
  params: Record<string, unknown>
  /** `device_id` as a string, if present. */
  device_id: string | undefined
  /** `app_key` (for bulk items: the item's or the call's), if present. */
  app_key: string | undefined
  outcome: IngestOutcome
  /** Server message explaining a non-`processed` outcome, e.g. `Duplicate request`, `App does not exist`. */
  reason: string | undefined
  /** Request time in ms the server used (from `timestamp`, else arrival). */
  timestamp: number
  /** Index of the carrying HTTP request in `server.requests`. */
  requestIndex: number
  /** `Date.now()` when it was processed. */
  receivedAt: number
}

/**
 * An event as the server stores it (drill shape), including the events the
 * server generates itself (`[CLY]_session_begin`, `[CLY]_session`, `[CLY]_crash`,
 * `[CLY]_consent`, `[CLY]_apm_network`, `[CLY]_apm_device`) and the internal
 * events SDKs send (`[CLY]_view`, `[CLY]_star_rating`, …).
 *
 * @example
 * const [purchase] = server.events({ key: 'purchase' })
 * expect(purchase).toMatchObject({ count: 1, sum: 9.99, segmentation: { plan: 'pro' } })
 */
export interface ReceivedEvent {
  device_id: string
  app_key: string
  key: string
  /** Display name the server sets (view name, rating widget id, crash name, trace name). */
  name: string | undefined
  /** `parseInt(count)`, 1 when missing or not numeric. */
  count: number
  /** Rounded to 5 decimals; `undefined` when not sent or invalid. */
  sum: number | undefined
  dur: number | undefined
  /** Sanitised segmentation (`$` prefix and dots removed from keys, arrays truncated to 10). */
  segmentation: Record<string, unknown>
  /** Event time in ms (event `timestamp`, else request time; equal ones in one request bumped by 1 ms). */
  timestamp: number
  hour: number
  dow: number
  /** Event id, current / previous view id, previous event id: copied when sent. */
  id?: string
  cvid?: string
  pvid?: string
  peid?: string
}

/**
 * A crash report the crashes plugin accepted (one `[CLY]_crash` event each).
 *
 * @example
 * expect(server.crashes('dev-1')[0]).toMatchObject({ name: 'TypeError: boom', nonfatal: true })
 */
export interface ReceivedCrash {
  device_id: string
  app_key: string
  timestamp: number
  /** `_error`: the stack trace. */
  error: string
  /** `_name`, defaulting to the first line of `_error`. */
  name: string
  nonfatal: boolean
  os: string
  os_version: string | undefined
  app_version: string
  logs: string | undefined
  run: number | undefined
  /** `_custom` as sent (sanitised keys). */
  custom: Record<string, unknown>
  /** Every recognised `_` field after normalisation, without the leading `_`. */
  fields: Record<string, unknown>
  /** Crash group id: sha1([os +] error + app id + nonfatal). */
  group: string
}

/**
 * An APM trace the performance plugin accepted (one `[CLY]_apm_*` event each).
 *
 * @example
 * const traces = server.traces({ type: 'network', name: 'GET /users/:id' })
 * expect(traces[0]?.metrics.response_code).toBe(200)
 */
export interface ReceivedTrace {
  device_id: string
  app_key: string
  type: 'network' | 'device'
  name: string
  stz: number
  etz: number
  /** Valid metrics only (invalid ones are dropped and reported as violations). */
  metrics: Record<string, number>
  attributes: Record<string, unknown> | undefined
  timestamp: number
}

/**
 * The `app_users` document of one device, as the server keeps it.
 * Times (`fs`, `ls`, `lbst`, `lest`) are in seconds like Countly's.
 *
 * @example
 * const user = server.user('dev-1')
 * expect(user).toMatchObject({ sc: 1, hos: true, metrics: { _os: 'Linux' }, custom: { plan: 'pro' } })
 */
export interface StoredUser {
  /** sha1(app_key + device_id). */
  _id: string
  /** Short per-app user id. */
  uid: string
  /** device_id. */
  did: string
  app_key: string
  /** First and last seen (s). */
  fs: number
  ls: number
  /** Session count, current session duration, total session duration (s). */
  sc: number
  sd: number
  tsd: number
  /** Has an ongoing session. */
  hos: boolean
  /** Last session id, last begin / end session timestamps (s). */
  lsid: string | undefined
  lbst: number | undefined
  lest: number | undefined
  /** Device id type (`t` param). */
  t: number | undefined
  sdk: { name?: string; version?: string }
  /** Remaining requests in the SDK queue (`rr`). */
  rr: number | undefined
  /** SDK health check (`hc`). */
  hc: Record<string, unknown> | undefined
  /** Device UTC offset in minutes (`tz`). */
  tz: number | undefined
  /** Metrics as sent (`_os`, `_os_version`, `_app_version`, `_locale`, …), latest value per key. */
  metrics: Record<string, string>
  consent: Record<string, boolean>
  /** Custom properties with `$inc`, `$push`, … applied. */
  custom: Record<string, unknown>
  name?: string
  username?: string
  email?: string
  organization?: string
  phone?: string
  picture?: string
  gender?: string
  byear?: number
  location: { lat: number; lng: number } | undefined
  country_code: string | undefined
  city: string | undefined
  region: string | undefined
  ip: string | undefined
  /** Device ids merged into this user through `old_device_id`, oldest first. */
  merged_ids: string[]
  campaign_id: string | undefined
  campaign_user: string | undefined
  /** Remote-config keys this user was enrolled in (`oi=1` on `rc`, or `method=ab`). */
  rc_enrolments: string[]
  /** View count in the current session, last view name. */
  vc: number
  lv: string | undefined
  /** Orientation from `[CLY]_orientation`. */
  ornt: string | undefined
  /** Hash of the last accepted request (duplicate detection). */
  last_req: string | undefined
}

/**
 * Identifies a kind of protocol violation; see {@link ProtocolViolation}.
 *
 * @example
 * const codes: ViolationCode[] = server.violations.map((v) => v.code)
 */
export type ViolationCode =
  | 'malformed-json'
  | 'invalid-param'
  | 'forbidden-param'
  | 'zero-device-id'
  | 'unparsed-body'
  | 'body-too-large'
  | 'url-too-long'
  | 'checksum-missing'
  | 'checksum-mismatch'
  | 'bulk-with-salt'
  | 'bulk-item-skipped'
  | 'bulk-item-rejected'
  | 'missing-timestamp'
  | 'invalid-timestamp'
  | 'invalid-time-field'
  | 'invalid-flag'
  | 'invalid-session-duration'
  | 'invalid-metric'
  | 'invalid-event'
  | 'dropped-internal-event'
  | 'event-key-too-long'
  | 'invalid-count'
  | 'invalid-sum'
  | 'invalid-dur'
  | 'invalid-segmentation'
  | 'crash-ignored'
  | 'invalid-crash-field'
  | 'invalid-user-details'
  | 'invalid-consent'
  | 'invalid-location'
  | 'invalid-apm'
  | 'invalid-view'
  | 'invalid-rating'

/**
 * Something a real Countly server would silently ignore, drop or mangle (or
 * answer with a 200 the client cannot tell from success). A well-behaved SDK
 * produces none: `expect(server.violations).toEqual([])`.
 *
 * @example
 * expect(server.violations).toContainEqual(expect.objectContaining({ code: 'crash-ignored' }))
 */
export interface ProtocolViolation {
  code: ViolationCode
  /** Human-readable explanation naming the offending value. */
  message: string
  deviceId?: string
  /** Endpoint the offending request went to (`/i`, `/i/bulk`, `/o/sdk`, …). */
  endpoint: string
}

/**
 * What a fault's `match` sees of a request.
 *
 * @example
 * const onlyBulk = (req: FaultRequestInfo) => req.endpoint === '/i/bulk' && req.method === 'POST'
 */
export interface FaultRequestInfo {
  /** Route after the path prefix: `/i`, `/i/bulk`, `/o/sdk`, `/o/ping`, … */
  endpoint: string
  method: string
}

/**
 * One kind of failure the server can simulate (see {@link Fault}). Faults that answer for the
 * server (`status`, `rate-limit`, `reject`, `non-json`, `never-ending`) and
 * `reset`/`hang` do NOT process the request; `slow`, `oversized-response` and
 * `reset-after-processing` process it normally first.
 *
 * @example
 * const fault: FaultKind = { type: 'rate-limit', retryAfterS: 2 }
 */
export type FaultKind =
  /** Stop listening (connection refused) until the fault is replaced; then listen again on the same port. */
  | { type: 'down' }
  /** Answer this status with this body. Body default `{"result":"Server error"}`. */
  | { type: 'status'; status: number; body?: string }
  /** 429 with `Retry-After: <retryAfterS>`. */
  | { type: 'rate-limit'; retryAfterS: number }
  /** 400 `{"result": message}`, e.g. `App does not exist`, `Cannot get app user`. */
  | { type: 'reject'; message: string }
  /** Process normally, answer after `delayMs`. */
  | { type: 'slow'; delayMs: number }
  /** Destroy the socket without answering and without processing. */
  | { type: 'reset' }
  /** Process the request, then destroy the socket without answering. */
  | { type: 'reset-after-processing' }
  /** Never answer (socket kept open until `close()`). */
  | { type: 'hang' }
  /** Process the request, then answer 200 with a valid JSON body of `bytes` bytes. */
  | { type: 'oversized-response'; bytes: number }
  /** 200 with a `text/html` body (a proxy's page). */
  | { type: 'non-json' }
  /** 200, then write chunks forever. */
  | { type: 'never-ending' }

/**
 * Scope of a fault: how many requests and which ones.
 *
 * @example
 * server.setFault({ type: 'reset', times: 1, match: (r) => r.endpoint === '/i' })
 */
export interface FaultScope {
  /** Apply to the next N matching HTTP requests, then clear the fault. Ignored by `down`. */
  times?: number
  /** Only requests this returns true for are affected. Ignored by `down`. */
  match?: (req: FaultRequestInfo) => boolean
}

/**
 * A simulated failure, set with `server.setFault(fault)`.
 *
 * @example
 * server.setFault({ type: 'status', status: 503, times: 2, match: (r) => r.endpoint === '/i/bulk' })
 */
export type Fault = FaultKind & FaultScope

/**
 * Filter of `server.events()`; omitted fields match everything.
 *
 * @example
 * server.events({ key: '[CLY]_view', deviceId: 'user-1' })
 */
export interface EventFilter {
  key?: string
  deviceId?: string
}

/**
 * Filter of `server.traces()`; omitted fields match everything.
 *
 * @example
 * server.traces({ type: 'network', name: 'GET /users/:id' })
 */
export interface TraceFilter {
  type?: 'network' | 'device'
  name?: string
  deviceId?: string
}

/**
 * A running Countly stand-in. Every list is in arrival / processing order and
 * grows as requests come in.
 *
 * @example
 * const server = await startTestServer()
 * // … point the SDK at server.url, use it …
 * await server.waitFor((s) => s.events({ key: 'purchase' }).length === 1)
 * expect(server.violations).toEqual([])
 * await server.close()
 */
export interface TestServer {
  /** `http://127.0.0.1:<port>` plus the path prefix, if any. */
  readonly url: string
  readonly port: number
  /** Every HTTP request in arrival order (live array). */
  readonly requests: ReceivedHttpRequest[]
  /** Every `/i` request and `/i/bulk` item in processing order (live array). */
  readonly items: IngestedRequest[]
  /** TCP connections accepted so far. */
  readonly connections: number
  /** Everything a real server would silently ignore, drop or mangle (live array). */
  readonly violations: ProtocolViolation[]
  /** Stored events, optionally filtered by key and device. */
  events(filter?: EventFilter): ReceivedEvent[]
  /** Accepted crash reports, optionally of one device. */
  crashes(deviceId?: string): ReceivedCrash[]
  /** Accepted APM traces, optionally filtered. */
  traces(filter?: TraceFilter): ReceivedTrace[]
  /** A copy of the user document of `deviceId` (first app key that has it). */
  user(deviceId: string): StoredUser | undefined
  /** Copies of every user document. */
  users(): StoredUser[]
  /**
   * Resolve once `predicate(server)` returns true (checked on every processed
   * request and every 25 ms); reject after `timeoutMs` with a summary of what
   * was received. A predicate that throws counts as false.
   */
  waitFor(predicate: (server: TestServer) => boolean, timeoutMs?: number): Promise<void>
  /** Simulate a failure until replaced, cleared with `null`, or used `times` times. */
  setFault(fault: Fault | null): void
  setRemoteConfig(values: Record<string, unknown>): void
  setSdkConfig(config: Record<string, unknown>): void
  /** Forget received data (requests, items, users, events, violations, connection count); keeps config and fault. */
  reset(): void
  /** Close the server and destroy every open socket. Idempotent. */
  close(): Promise<void>
}

/**
 * Options of {@link printLive}.
 *
 * @example
 * const stop = printLive(server, { json: true, write: (line) => lines.push(line) })
 */
export interface PrintLiveOptions {
  /**
   * Receives each line (without a trailing newline).
   * @default writes to process.stdout
   */
  write?: (line: string) => void
  /**
   * Print one JSON object per line instead of readable text.
   * @default false
   */
  json?: boolean
}

/** What an example app's scenario receives: where to report, and a line logger. */
export interface ScenarioOptions {
  /** Countly server URL. */
  readonly url: string
  readonly appKey: string
  /** Say what the scenario does, one line at a time. */
  readonly log: (line: string) => void
}

/** An example app's scenario: starts the app, drives it, shuts it and its Telemeter down. */
export type Scenario = (options: ScenarioOptions) => Promise<void>
