import type { ReceivedTrace } from '../types.js'
import {
  APM_CUSTOM_METRIC_MAX_LENGTH,
  APM_DEVICE_METRICS,
  APM_NAME_MAX_LENGTH,
  APM_NETWORK_METRICS,
  APM_RESERVED_METRICS,
} from './constants.js'
import { type ItemContext, makeEvent } from './context.js'
import { timeFromMs } from './time.js'
import { describe, isNumeric, isPlainObject, type JsonObject } from './values.js'

const CUSTOM_METRIC_KEY = /^[a-zA-Z][a-zA-Z0-9_]*$/

/**
 * `apm` (PROTOCOL §2.13): one network or device trace, stored as a
 * `[CLY]_apm_network` / `[CLY]_apm_device` event. Invalid traces are ignored
 * and invalid metrics dropped, each reported.
 */
export function processApm(ctx: ItemContext, apm: JsonObject | undefined): void {
  if (!apm) return
  const type = apm.type
  if (type !== 'network' && type !== 'device') {
    ctx.violate('invalid-apm', `apm.type must be "network" or "device", got ${describe(type)}; trace ignored`)
    return
  }
  const name = apm.name
  if (typeof name !== 'string' || name === '' || name.startsWith('$') || name.length > APM_NAME_MAX_LENGTH) {
    ctx.violate(
      'invalid-apm',
      `apm.name must be a non-empty string not starting with $ and at most ${APM_NAME_MAX_LENGTH} chars, got ${describe(name)}; trace ignored`,
    )
    return
  }
  const stz = traceTime(ctx, 'stz', apm.stz, ctx.time.ms)
  const etz = traceTime(ctx, 'etz', apm.etz, stz)
  if (etz < stz) ctx.violate('invalid-apm', `apm "${name}" ends (etz) before it starts (stz)`)
  const metrics = traceMetrics(ctx, type, name, apm.apm_metrics)
  const required = type === 'network' ? 'response_time' : 'duration'
  if (metrics[required] === undefined)
    ctx.violate('invalid-apm', `apm ${type} trace "${name}" has no ${required}`)
  let attributes: JsonObject | undefined
  if (apm.apm_attr !== undefined) {
    if (isPlainObject(apm.apm_attr)) attributes = apm.apm_attr
    else ctx.violate('invalid-apm', `apm.apm_attr of "${name}" must be an object; dropped`)
  }
  const trace: ReceivedTrace = {
    device_id: ctx.deviceId,
    app_key: ctx.appKey,
    type,
    name,
    stz,
    etz,
    metrics,
    attributes,
    timestamp: stz,
  }
  ctx.traces.push(trace)
  const time = timeFromMs(stz)
  ctx.events.push(
    makeEvent(ctx, {
      key: `[CLY]_apm_${type}`,
      name,
      dur: metrics[required],
      segmentation: { name, ...metrics },
      timestamp: stz,
      hour: time.hour,
      dow: time.dow,
    }),
  )
}

function traceTime(ctx: ItemContext, field: 'stz' | 'etz', raw: unknown, fallback: number): number {
  if (isNumeric(raw)) return Number(raw)
  ctx.violate('invalid-apm', `apm.${field} must be a ms timestamp, got ${describe(raw)}`)
  return fallback
}

function traceMetrics(
  ctx: ItemContext,
  type: 'network' | 'device',
  name: string,
  raw: unknown,
): Record<string, number> {
  const metrics: Record<string, number> = {}
  if (!isPlainObject(raw)) {
    ctx.violate('invalid-apm', `apm.apm_metrics of "${name}" must be an object, got ${describe(raw)}`)
    return metrics
  }
  const builtIn = type === 'network' ? APM_NETWORK_METRICS : APM_DEVICE_METRICS
  for (const [key, value] of Object.entries(raw)) {
    if (!builtIn.has(key)) {
      if (
        !CUSTOM_METRIC_KEY.test(key) ||
        key.length > APM_CUSTOM_METRIC_MAX_LENGTH ||
        APM_RESERVED_METRICS.has(key)
      ) {
        ctx.violate(
          'invalid-apm',
          `apm metric ${describe(key)} of "${name}" is not a valid custom metric name (letters, digits, _; <= ${APM_CUSTOM_METRIC_MAX_LENGTH} chars; not reserved for ${type === 'network' ? 'device' : 'network'} traces); dropped`,
        )
        continue
      }
    }
    if (!isNumeric(value)) {
      ctx.violate(
        'invalid-apm',
        `apm metric ${key} of "${name}" must be a number, got ${describe(value)}; dropped`,
      )
      continue
    }
    const n = Number(value)
    if (key === 'response_code' && (!Number.isInteger(n) || n < 100 || n > 599)) {
      ctx.violate(
        'invalid-apm',
        `apm response_code ${describe(value)} of "${name}" is not 100-599; stored as 0`,
      )
      metrics[key] = 0
      continue
    }
    if (builtIn.has(key) && n < 0) {
      ctx.violate('invalid-apm', `apm metric ${key} of "${name}" must be >= 0, got ${n}; dropped`)
      continue
    }
    metrics[key] = n
  }
  return metrics
}
