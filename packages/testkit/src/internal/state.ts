import type {
  Fault,
  IngestedRequest,
  ProtocolViolation,
  ReceivedCrash,
  ReceivedEvent,
  ReceivedHttpRequest,
  ReceivedTrace,
  StoredUser,
  TestServerOptions,
  ViolationCode,
} from '../types.js'
import { DEFAULT_APP_KEY, DEFAULT_HOST, DEFAULT_SESSION_COOLDOWN_S } from './constants.js'

/** Options with every default applied, frozen once at start. */
export interface ResolvedOptions {
  readonly appKeys: readonly string[]
  readonly salt: string | undefined
  readonly port: number
  readonly host: string
  readonly pathPrefix: string
  readonly preventDuplicateRequests: boolean
  readonly sessionCooldownS: number
  readonly safe: boolean
}

/** Something that just happened, for live printing (`printLive`, the CLI). */
export type Activity =
  | { kind: 'request'; request: ReceivedHttpRequest }
  | { kind: 'response'; request: ReceivedHttpRequest }
  | { kind: 'item'; item: IngestedRequest }
  | { kind: 'event'; event: ReceivedEvent }
  | { kind: 'crash'; crash: ReceivedCrash }
  | { kind: 'trace'; trace: ReceivedTrace }
  | { kind: 'violation'; violation: ProtocolViolation }

/** A user document plus the bookkeeping the server keeps outside it. */
export interface UserRecord {
  doc: StoredUser
  /** Ended session waiting for the cooldown before its `[CLY]_session` event is written. */
  pendingClose: { dur: number; timer: NodeJS.Timeout | undefined } | undefined
  lsparams: Record<string, unknown> | undefined
}

export interface ServerState {
  readonly options: ResolvedOptions
  remoteConfig: Record<string, unknown>
  sdkConfig: Record<string, unknown>
  fault: Fault | null
  readonly requests: ReceivedHttpRequest[]
  readonly items: IngestedRequest[]
  readonly violations: ProtocolViolation[]
  readonly events: ReceivedEvent[]
  readonly crashes: ReceivedCrash[]
  readonly traces: ReceivedTrace[]
  /** Keyed by `userKey(appKey, deviceId)`. */
  readonly users: Map<string, UserRecord>
  readonly nextUid: Map<string, number>
  connections: number
  readonly listeners: Set<(activity: Activity) => void>
  /** Called after each processed request, so `waitFor` re-checks at once. */
  readonly onProgress: Set<() => void>
}

export function resolveOptions(options: TestServerOptions = {}): ResolvedOptions {
  const keys = options.appKey === undefined ? [DEFAULT_APP_KEY] : [options.appKey].flat()
  return Object.freeze({
    appKeys: Object.freeze(keys),
    salt: options.salt === '' ? undefined : options.salt,
    port: options.port ?? 0,
    host: options.host ?? DEFAULT_HOST,
    pathPrefix: normalisePrefix(options.pathPrefix),
    preventDuplicateRequests: options.preventDuplicateRequests ?? true,
    sessionCooldownS: options.sessionCooldownS ?? DEFAULT_SESSION_COOLDOWN_S,
    safe: options.safe ?? true,
  })
}

function normalisePrefix(prefix: string | undefined): string {
  if (!prefix || prefix === '/') return ''
  const trimmed = prefix.replace(/\/+$/, '')
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`
}

export function createState(options: TestServerOptions | undefined): ServerState {
  return {
    options: resolveOptions(options),
    remoteConfig: { ...options?.remoteConfig },
    sdkConfig: { ...options?.sdkConfig },
    fault: null,
    requests: [],
    items: [],
    violations: [],
    events: [],
    crashes: [],
    traces: [],
    users: new Map(),
    nextUid: new Map(),
    connections: 0,
    listeners: new Set(),
    onProgress: new Set(),
  }
}

/** Forget received data in place (callers may hold the live arrays). */
export function clearReceived(state: ServerState): void {
  for (const record of state.users.values()) {
    if (record.pendingClose?.timer) clearTimeout(record.pendingClose.timer)
  }
  state.requests.length = 0
  state.items.length = 0
  state.violations.length = 0
  state.events.length = 0
  state.crashes.length = 0
  state.traces.length = 0
  state.users.clear()
  state.nextUid.clear()
  state.connections = 0
}

export function emit(state: ServerState, activity: Activity): void {
  for (const listener of state.listeners) {
    try {
      listener(activity)
    } catch {
      // A printing hook must never break request handling.
    }
  }
}

export function notifyProgress(state: ServerState): void {
  for (const check of state.onProgress) check()
}

export function recordViolation(
  state: ServerState,
  code: ViolationCode,
  message: string,
  endpoint: string,
  deviceId?: string,
): void {
  const violation: ProtocolViolation =
    deviceId === undefined ? { code, message, endpoint } : { code, message, deviceId, endpoint }
  state.violations.push(violation)
  emit(state, { kind: 'violation', violation })
}

export function userKey(appKey: string, deviceId: string): string {
  return `${appKey}\u0000${deviceId}`
}

/** Store an event outside of a request (a session finalised after the cooldown). */
export function storeEvent(state: ServerState, event: ReceivedEvent): void {
  state.events.push(event)
  emit(state, { kind: 'event', event })
}
