import type { Agent } from 'node:http'
import type { Limits, Logger, StorageAdapter, TelemeterConfig, TrackingPolicy } from '../types.js'

export const DEFAULT_STORAGE_PATH = '.telemeter'
export const DEFAULT_FLUSH_INTERVAL_MS = 500
export const DEFAULT_SESSION_UPDATE_INTERVAL_MS = 60_000
export const DEFAULT_MAX_EVENTS_PER_REQUEST = 100
export const DEFAULT_BULK_SIZE = 50
export const DEFAULT_MAX_QUEUE_SIZE = 10_000
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 2_000
export const DEFAULT_MAX_DEVICES = 10_000
export const DEFAULT_DEVICE_IDLE_MS = 30 * 60_000
export const DEFAULT_RETRY_BASE_DELAY_MS = 1_000
export const DEFAULT_RETRY_MAX_DELAY_MS = 5 * 60_000
export const MAX_RETRY_AFTER_MS = 60 * 60_000
/** Countly SDKs switch from GET to POST above this many encoded characters. */
export const MAX_GET_LENGTH = 2_000
export const MAX_DEVICE_ID_LENGTH = 256

export const DEFAULT_LIMITS: Required<Limits> = Object.freeze({
  keyLength: 128,
  valueSize: 256,
  segmentationValues: 100,
  breadcrumbCount: 100,
  stackTraceLines: 30,
  stackTraceLineLength: 200,
})

/** Thrown by `createTelemeter` when a required option is missing or malformed. */
export class TelemeterConfigError extends Error {
  /** The configuration field at fault. */
  readonly field: string
  constructor(field: string, message: string) {
    super(`[telemeter] invalid config.${field}: ${message}`)
    this.name = 'TelemeterConfigError'
    this.field = field
  }
}

export interface ResolvedConfig {
  readonly url: URL
  readonly appKey: string
  readonly deviceId: string | undefined
  readonly appVersion: string | undefined
  readonly storage: 'file' | 'memory' | StorageAdapter
  readonly storagePath: string
  readonly salt: string | undefined
  readonly forcePost: boolean
  readonly requireConsent: boolean
  readonly tracking: Readonly<TrackingPolicy>
  readonly disabled: boolean
  readonly debug: boolean
  readonly printPayloads: boolean
  readonly customLogger: Logger | undefined
  readonly sessions: 'auto' | 'manual'
  readonly sessionUpdateIntervalMs: number
  readonly flushIntervalMs: number
  readonly maxEventsPerRequest: number
  readonly bulkSize: number
  readonly maxQueueSize: number
  readonly requestTimeoutMs: number
  readonly headers: Readonly<Record<string, string>>
  readonly agent: Agent | undefined
  readonly limits: Readonly<Required<Limits>>
  readonly maxDevices: number
  readonly deviceIdleMs: number
  readonly hashIdentifiers: boolean
  readonly metrics: Readonly<Record<string, string>>
  readonly initLocation: { countryCode?: string; city?: string; ip?: string } | undefined
  readonly beforeRequest: TelemeterConfig['beforeRequest']
  readonly retryBaseDelayMs: number
  readonly retryMaxDelayMs: number
  readonly remoteConfigAuto: boolean
  readonly captureUncaught: boolean
  readonly serverConfig: boolean
}

function positiveInt(config: object, field: string, fallback: number, min = 1): number {
  const value = (config as Record<string, unknown>)[field]
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new TelemeterConfigError(field, `expected a number >= ${min}, got ${describe(value)}`)
  }
  return Math.floor(value)
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`
}

function parseUrl(value: unknown): URL {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TelemeterConfigError('url', `expected the Countly server URL, got ${describe(value)}`)
  }
  let url: URL
  try {
    url = new URL(value.trim())
  } catch {
    throw new TelemeterConfigError('url', `${describe(value)} is not a URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TelemeterConfigError('url', `expected an http or https URL, got ${url.protocol}`)
  }
  url.search = ''
  url.hash = ''
  return url
}

/**
 * Normalise the user's config once into a frozen object with every default
 * filled in. A disabled instance accepts a missing url/appKey: the kill switch
 * must never be the thing that crashes start-up.
 */
export function resolveConfig(config: TelemeterConfig, disabled: boolean): ResolvedConfig {
  if (config === null || typeof config !== 'object') {
    throw new TelemeterConfigError('url', 'createTelemeter needs a config object with url and appKey')
  }
  const url = disabled && config.url === undefined ? new URL('http://127.0.0.1') : parseUrl(config.url)
  const appKey = config.appKey
  if (!disabled && (typeof appKey !== 'string' || appKey.trim() === '')) {
    throw new TelemeterConfigError('appKey', `expected the app key string, got ${describe(appKey)}`)
  }
  const deviceId = config.deviceId
  if (deviceId !== undefined && (typeof deviceId !== 'string' || deviceId.trim() === '')) {
    throw new TelemeterConfigError('deviceId', `expected a non-empty string, got ${describe(deviceId)}`)
  }
  const storage = config.storage ?? 'file'
  if (storage !== 'file' && storage !== 'memory' && !isStorageAdapter(storage)) {
    throw new TelemeterConfigError(
      'storage',
      `expected 'file', 'memory' or a StorageAdapter, got ${describe(storage)}`,
    )
  }
  const debug = config.debug
  return Object.freeze({
    url,
    appKey: typeof appKey === 'string' ? appKey.trim() : '',
    deviceId: deviceId?.trim(),
    appVersion: typeof config.appVersion === 'string' && config.appVersion ? config.appVersion : undefined,
    storage,
    storagePath:
      typeof config.storagePath === 'string' && config.storagePath
        ? config.storagePath
        : DEFAULT_STORAGE_PATH,
    salt: typeof config.salt === 'string' && config.salt ? config.salt : undefined,
    forcePost: config.forcePost === true,
    requireConsent: config.requireConsent === true,
    tracking: Object.freeze({ ...(config.tracking ?? {}) }),
    disabled,
    debug: debug === true || debug === 'print' || (typeof debug === 'object' && debug !== null),
    printPayloads: debug === 'print' || envFlag('TELEMETER_DEBUG'),
    customLogger: typeof debug === 'object' && debug !== null ? debug : undefined,
    sessions: config.sessions === 'manual' ? 'manual' : 'auto',
    sessionUpdateIntervalMs: positiveInt(
      config,
      'sessionUpdateIntervalMs',
      DEFAULT_SESSION_UPDATE_INTERVAL_MS,
      1_000,
    ),
    flushIntervalMs: positiveInt(config, 'flushIntervalMs', DEFAULT_FLUSH_INTERVAL_MS, 10),
    maxEventsPerRequest: positiveInt(config, 'maxEventsPerRequest', DEFAULT_MAX_EVENTS_PER_REQUEST),
    bulkSize: positiveInt(config, 'bulkSize', DEFAULT_BULK_SIZE),
    maxQueueSize: positiveInt(config, 'maxQueueSize', DEFAULT_MAX_QUEUE_SIZE),
    requestTimeoutMs: positiveInt(config, 'requestTimeoutMs', DEFAULT_REQUEST_TIMEOUT_MS, 100),
    headers: Object.freeze({ ...(config.headers ?? {}) }),
    agent: config.agent,
    limits: Object.freeze({ ...DEFAULT_LIMITS, ...pickLimits(config.limits) }),
    maxDevices: positiveInt(config, 'maxDevices', DEFAULT_MAX_DEVICES),
    deviceIdleMs: positiveInt(config, 'deviceIdleMs', DEFAULT_DEVICE_IDLE_MS, 1_000),
    hashIdentifiers: config.hashIdentifiers === true,
    metrics: Object.freeze(stringRecord(config.metrics)),
    initLocation:
      config.countryCode !== undefined || config.city !== undefined || config.ip !== undefined
        ? { countryCode: config.countryCode, city: config.city, ip: config.ip }
        : undefined,
    beforeRequest: typeof config.beforeRequest === 'function' ? config.beforeRequest : undefined,
    retryBaseDelayMs: positiveInt(config.retry ?? {}, 'baseDelayMs', DEFAULT_RETRY_BASE_DELAY_MS, 10),
    retryMaxDelayMs: positiveInt(config.retry ?? {}, 'maxDelayMs', DEFAULT_RETRY_MAX_DELAY_MS, 10),
    remoteConfigAuto: config.remoteConfig?.auto === true,
    captureUncaught: config.captureUncaught === true,
    serverConfig: config.serverConfig !== false,
  })
}

function stringRecord(value: unknown): Record<string, string> {
  if (value === undefined) return {}
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TelemeterConfigError(
      'metrics',
      `expected an object of metric -> string, got ${describe(value)}`,
    )
  }
  const result: Record<string, string> = {}
  for (const [key, inner] of Object.entries(value)) {
    if (typeof inner === 'string' || typeof inner === 'number') result[key] = String(inner)
  }
  return result
}

function pickLimits(limits: Limits | undefined): Limits {
  if (!limits || typeof limits !== 'object') return {}
  const picked: Record<string, number> = {}
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    picked[key] = positiveInt(limits, key, DEFAULT_LIMITS[key])
  }
  return picked
}

function isStorageAdapter(value: unknown): value is StorageAdapter {
  const candidate = value as Partial<StorageAdapter> | null
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.open === 'function' &&
    typeof candidate.append === 'function' &&
    typeof candidate.remove === 'function' &&
    typeof candidate.setValue === 'function' &&
    typeof candidate.close === 'function'
  )
}

/** `DO_NOT_TRACK` and `TELEMETER_DISABLED` accept `1`/`true`; anything else has no effect. */
export function envFlag(name: string): boolean {
  const value = process.env[name]?.trim().toLowerCase()
  return value === '1' || value === 'true'
}
