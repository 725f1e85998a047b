import type { TraceHandle, TraceOptions } from '../types.js'
import type { TelemeterCore } from './client.js'
import { describe } from './config.js'
import type { DeviceState } from './devices.js'
import { createTrace } from './trace-body.js'

/** Custom trace keys and custom metric names the server accepts (PROTOCOL §2.13). */
export const APM_KEY_PATTERN = /^[a-zA-Z][a-zA-Z0-9_]*$/
/**
 * Longest custom trace key or custom metric name the server accepts (PROTOCOL §2.13).
 * @example name.slice(0, MAX_APM_KEY_LENGTH)
 */
export const MAX_APM_KEY_LENGTH = 32
export const MAX_TRACE_NAME_LENGTH = 2048
/**
 * Metric names the server keeps for itself; custom metrics must not use them (PROTOCOL §2.13).
 * @example if (RESERVED_APM_METRICS.has(key)) key = `custom_${key}`
 */
export const RESERVED_APM_METRICS: ReadonlySet<string> = new Set([
  'response_time',
  'response_payload_size',
  'response_code',
  'request_payload_size',
  'duration',
  'slow_rendering_frames',
  'frozen_frames',
])
const NETWORK_METRICS = [
  'response_time',
  'response_code',
  'request_payload_size',
  'response_payload_size',
] as const

/**
 * Does `key` satisfy the server's rule for custom trace keys and metric names
 * (`^[a-zA-Z][a-zA-Z0-9_]*$`, at most 32 characters)?
 * @example isValidApmKey('db_query') // true; isValidApmKey('db.query') // false
 */
export function isValidApmKey(key: string): boolean {
  return key.length <= MAX_APM_KEY_LENGTH && APM_KEY_PATTERN.test(key)
}

/**
 * Turn a free-form name (a message pattern, `Class.method`, a GraphQL field)
 * into a valid custom trace key or metric name: a valid key is kept as it
 * is; otherwise runs of other characters become one `_`, leading non-letters
 * are dropped and the result is cut to 32 characters. `undefined` when no
 * letter is left.
 * @example toApmKey('user.created') // 'user_created'; toApmKey('42') // undefined
 */
export function toApmKey(name: string): string | undefined {
  if (typeof name !== 'string') return undefined
  if (isValidApmKey(name)) return name
  const key = name
    .replace(/[^a-zA-Z0-9_]+/g, '_')
    .replace(/__+/g, '_')
    .replace(/^[^a-zA-Z]+/, '')
    .slice(0, MAX_APM_KEY_LENGTH)
    .replace(/_+$/, '')
  return key === '' ? undefined : key
}

function nonNegative(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined
}

function traceName(core: TelemeterCore, type: 'network' | 'device', name: unknown): string | undefined {
  if (typeof name !== 'string' || name.trim() === '') {
    core.logger.warnOnce(
      'apm:name',
      `trace name must be a non-empty string, got ${describe(name)}; trace dropped`,
    )
    return undefined
  }
  const trimmed = name.trim()
  if (trimmed.startsWith('$')) {
    core.logger.warnOnce(
      `apm:dollar:${trimmed}`,
      `trace name "${trimmed}" must not start with $; trace dropped`,
    )
    return undefined
  }
  if (type === 'device' && !isValidApmKey(trimmed)) {
    core.logger.warnOnce(
      `apm:key:${trimmed}`,
      `custom trace key "${trimmed}" must match ${APM_KEY_PATTERN} and be at most ${MAX_APM_KEY_LENGTH} characters; trace dropped`,
    )
    return undefined
  }
  return core.sanitizer.string(trimmed, MAX_TRACE_NAME_LENGTH, 'trace name')
}

function networkMetrics(core: TelemeterCore, metrics: Record<string, unknown>): Record<string, number> {
  const result: Record<string, number> = {}
  for (const key of NETWORK_METRICS) {
    const value = nonNegative(metrics[key])
    if (key === 'response_code') {
      // The server stores anything outside 100-599 as 0: an unknown code is left out instead.
      if (value !== undefined && value >= 100 && value <= 599) result[key] = Math.round(value)
      else if (metrics[key] !== undefined)
        core.logger.warnOnce('apm:net:response_code', 'network trace response_code must be 100-599; left out')
      continue
    }
    if (value === undefined) {
      if (metrics[key] !== undefined) {
        core.logger.warnOnce(`apm:net:${key}`, `network trace metric ${key} must be a number >= 0; sent as 0`)
      }
      result[key] = 0
      continue
    }
    result[key] = Math.round(value)
  }
  for (const key of Object.keys(metrics)) {
    if (!(NETWORK_METRICS as readonly string[]).includes(key)) {
      core.logger.warnOnce(
        `apm:netextra:${key}`,
        `network traces carry only ${NETWORK_METRICS.join(', ')}; "${key}" dropped`,
      )
    }
  }
  return result
}

function customMetrics(core: TelemeterCore, metrics: Record<string, unknown>): Record<string, number> {
  const result: Record<string, number> = {}
  for (const key of Object.keys(metrics)) {
    if (key === 'duration') continue
    const value = metrics[key]
    if (RESERVED_APM_METRICS.has(key) || !isValidApmKey(key)) {
      core.logger.warnOnce(
        `apm:metric:${key}`,
        `trace metric "${key}" is reserved or does not match ${APM_KEY_PATTERN} (<= ${MAX_APM_KEY_LENGTH} chars); dropped`,
      )
      continue
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      core.logger.warnOnce(`apm:value:${key}`, `trace metric "${key}" must be a finite number; dropped`)
      continue
    }
    result[key] = value
  }
  return result
}

/** Queue one APM trace as its own request (`apm={type,name,stz,etz,apm_metrics}`). */
export function reportTraceOf(core: TelemeterCore, device: DeviceState, options: TraceOptions): void {
  const refusal = core.gate.refusal('apm', device)
  if (refusal) return core.refuse('apm', refusal, 0)
  if (options === null || typeof options !== 'object') {
    core.logger.warnOnce(
      'apm:options',
      `reportTrace needs an options object, got ${describe(options)}; dropped`,
    )
    return core.refuse('apm', 'invalid', 0)
  }
  const type = options.type
  if (type !== 'network' && type !== 'device') {
    core.logger.warnOnce(
      'apm:type',
      `trace type must be 'network' or 'device', got ${describe(type)}; dropped`,
    )
    return core.refuse('apm', 'invalid', 0)
  }
  const name = traceName(core, type, options.name)
  if (name === undefined) return core.refuse('apm', 'invalid', 0)
  const rawMetrics =
    options.metrics && typeof options.metrics === 'object' ? (options.metrics as Record<string, unknown>) : {}
  const now = core.clock.timestamp()
  const etz = nonNegative(options.etz) ?? now
  const duration =
    type === 'network' ? nonNegative(rawMetrics.response_time) : nonNegative(rawMetrics.duration)
  let stz = nonNegative(options.stz) ?? etz - (duration ?? 0)
  if (stz > etz) stz = etz
  const apmMetrics =
    type === 'network'
      ? networkMetrics(core, rawMetrics)
      : { duration: Math.round(duration ?? etz - stz), ...customMetrics(core, rawMetrics) }
  const stamp = Math.round(stz)
  core.enqueue(
    device,
    'apm',
    {
      // Written from a template (trace-body.ts): traces are the hottest requests.
      apm: createTrace(
        type,
        name,
        stamp,
        Math.round(etz),
        apmMetrics,
        core.clock.hourOf(stamp),
        core.clock.dowOf(stamp),
      ),
    },
    0,
  )
}

/** `startTrace(key).end(metrics)`: a custom (device) trace timed from start to end. */
export function startTraceOf(core: TelemeterCore, device: DeviceState, key: unknown): TraceHandle {
  const stz = core.clock.timestamp()
  const started = performance.now()
  let ended = false
  return {
    end(metrics?: Record<string, number>): void {
      try {
        if (ended) {
          core.logger.warnOnce(
            `apm:twice:${String(key)}`,
            `trace "${String(key)}" ended twice; the second end is ignored`,
          )
          return
        }
        ended = true
        const duration = Math.max(0, Math.round(performance.now() - started))
        reportTraceOf(core, device, {
          type: 'device',
          name: key as string,
          stz,
          etz: stz + duration,
          metrics: { ...(metrics && typeof metrics === 'object' ? metrics : {}), duration },
        })
      } catch (error) {
        core.reportError(error as Error)
      }
    },
  }
}
