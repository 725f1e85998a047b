import type { InstanceOptions, InstanceProperties } from '../types.js'
import type { TelemeterCore } from './client.js'
import { describe } from './config.js'

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 6 * 3_600_000
export const MIN_HEARTBEAT_INTERVAL_MS = 60_000
export const DEFAULT_PROPERTIES_TIMEOUT_MS = 1_000
/** Event keys of product telemetry. */
export const INSTANCE_EVENTS = Object.freeze({
  start: 'instance.start',
  heartbeat: 'instance.heartbeat',
  stop: 'instance.stop',
  section: 'instance.section',
})
/**
 * Internal option (not part of the public types): the clock product
 * telemetry reads, so tests can move across days without waiting for one.
 */
export const INSTANCE_CLOCK: unique symbol = Symbol('telemeter.instance.clock')

/** `CI` set to anything but empty, `0` or `false` (how CI services announce themselves). */
export function ciDetected(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI?.trim().toLowerCase()
  return value !== undefined && value !== '' && value !== '0' && value !== 'false'
}

export interface ResolvedInstanceOptions {
  readonly heartbeatIntervalMs: number
  readonly properties: (() => InstanceProperties | Promise<InstanceProperties>) | undefined
  readonly propertiesTimeoutMs: number
  readonly trackCI: boolean
  readonly now: () => number
}

export function resolveInstanceOptions(core: TelemeterCore, input: unknown): ResolvedInstanceOptions {
  const warn = (field: string, message: string) =>
    core.logger.warnOnce(`instance:${field}`, `instance(): ${message}`)
  let options: InstanceOptions & { [INSTANCE_CLOCK]?: () => number } = {}
  if (input !== undefined && (input === null || typeof input !== 'object' || Array.isArray(input)))
    warn('options', `options must be an object, got ${describe(input)}; defaults are used`)
  else if (input !== undefined) options = input as typeof options
  let heartbeatIntervalMs = DEFAULT_HEARTBEAT_INTERVAL_MS
  const interval = options.heartbeatIntervalMs
  if (interval !== undefined) {
    if (typeof interval !== 'number' || !Number.isFinite(interval))
      warn('interval', `heartbeatIntervalMs must be a number, got ${describe(interval)}; 6 hours is used`)
    else if (interval < MIN_HEARTBEAT_INTERVAL_MS) {
      warn('interval', `heartbeatIntervalMs ${interval} is below one minute; one minute is used`)
      heartbeatIntervalMs = MIN_HEARTBEAT_INTERVAL_MS
    } else heartbeatIntervalMs = Math.floor(interval)
  }
  let propertiesTimeoutMs = DEFAULT_PROPERTIES_TIMEOUT_MS
  const timeout = options.propertiesTimeoutMs
  if (timeout !== undefined) {
    if (typeof timeout === 'number' && Number.isFinite(timeout) && timeout >= 1)
      propertiesTimeoutMs = Math.floor(timeout)
    else warn('timeout', `propertiesTimeoutMs must be a number >= 1, got ${describe(timeout)}; 1000 is used`)
  }
  let properties: ResolvedInstanceOptions['properties']
  if (typeof options.properties === 'function') properties = options.properties
  else if (options.properties !== undefined)
    warn('properties', `properties must be a function, got ${describe(options.properties)}; ignored`)
  const now = options[INSTANCE_CLOCK]
  return {
    heartbeatIntervalMs,
    properties,
    propertiesTimeoutMs,
    trackCI: options.trackCI === true,
    now: typeof now === 'function' ? now : Date.now,
  }
}
