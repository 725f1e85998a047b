import { createHash } from 'node:crypto'
import type { ReceivedCrash } from '../types.js'
import { CRASH_BOOLEAN_FIELDS, CRASH_FIELDS } from './constants.js'
import { type ItemContext, makeEvent } from './context.js'
import { describe, isNumeric, isPlainObject, isSafeKey, type JsonObject, safeAssign } from './values.js'

const REQUIRED = ['_error', '_app_version', '_os'] as const
/** Fields too big or too structured to be segments of the `[CLY]_crash` event. */
const NOT_SEGMENTS = new Set(['error', 'logs', 'binary_images', 'custom', 'nonfatal', 'not_os_specific'])

/**
 * `crash` (PROTOCOL §2.11): silently ignored unless `_error`, `_app_version`
 * and `_os` are all non-empty; otherwise one crash report and one
 * `[CLY]_crash` event. Unknown fields and non-boolean flags are dropped.
 */
export function processCrash(ctx: ItemContext, crash: JsonObject | undefined, appId: string): void {
  if (!crash) return
  const missing = REQUIRED.filter((field) => !crash[field])
  if (missing.length > 0) {
    ctx.violate('crash-ignored', `crash without ${missing.join(', ')} is silently ignored by the server`)
    return
  }
  const fields: JsonObject = {}
  let custom: JsonObject = {}
  for (const [key, value] of Object.entries(crash)) {
    const field = key.startsWith('_') ? key.slice(1) : ''
    if (!CRASH_FIELDS.has(field)) {
      ctx.violate('invalid-crash-field', `crash field "${key}" is not recognised; the server drops it`)
      continue
    }
    if (field === 'custom') {
      custom = crashCustom(ctx, value)
      continue
    }
    if (CRASH_BOOLEAN_FIELDS.has(field)) {
      if (value === true || value === 'true' || value === false || value === 'false') {
        fields[field] = value === true || value === 'true'
      } else {
        ctx.violate('invalid-crash-field', `crash ${key} must be true/false, got ${describe(value)}; dropped`)
      }
      continue
    }
    fields[field] = value
  }
  const rawNonfatal = crash._nonfatal
  if (
    rawNonfatal !== undefined &&
    ![true, false, 'true', 'false'].includes(rawNonfatal as string | boolean)
  ) {
    ctx.violate('invalid-crash-field', `crash _nonfatal must be true/false, got ${describe(rawNonfatal)}`)
  }
  const nonfatal = Boolean(rawNonfatal) && rawNonfatal !== 'false'
  fields.nonfatal = nonfatal
  const error = String(crash._error)
  const name = crash._name ? String(crash._name) : (error.split('\n')[0] ?? error)
  fields.name = name
  const os = String(crash._os)
  const group = createHash('sha1')
    .update((fields.not_os_specific ? '' : os) + error + appId + String(nonfatal))
    .digest('hex')
  const report: ReceivedCrash = {
    device_id: ctx.deviceId,
    app_key: ctx.appKey,
    timestamp: ctx.time.ms,
    error,
    name,
    nonfatal,
    os,
    os_version: crash._os_version === undefined ? undefined : String(crash._os_version),
    app_version: String(crash._app_version),
    logs: crash._logs === undefined ? undefined : String(crash._logs),
    run: isNumeric(crash._run) ? Number(crash._run) : undefined,
    custom,
    fields,
    group,
  }
  ctx.crashes.push(report)
  const segmentation: JsonObject = {}
  for (const [field, value] of Object.entries(fields)) {
    if (NOT_SEGMENTS.has(field) || typeof value === 'object') continue
    segmentation[field] = value
  }
  segmentation.nonfatal = String(nonfatal)
  for (const [key, value] of Object.entries(custom)) safeAssign(segmentation, `custom_${key}`, value)
  segmentation.crash = group
  ctx.events.push(makeEvent(ctx, { key: '[CLY]_crash', name, segmentation }))
}

function crashCustom(ctx: ItemContext, value: unknown): JsonObject {
  if (!isPlainObject(value)) {
    ctx.violate('invalid-crash-field', `crash _custom must be an object, got ${describe(value)}; dropped`)
    return {}
  }
  const custom: JsonObject = {}
  for (const [key, item] of Object.entries(value)) {
    const clean = key.replace(/^\$/, '').replace(/\./g, ':')
    if (!isSafeKey(clean) || clean === '') {
      ctx.violate('invalid-crash-field', `crash _custom key "${key}" is refused`)
      continue
    }
    if (clean !== key)
      ctx.violate('invalid-crash-field', `crash _custom key "${key}" is stored as "${clean}"`)
    safeAssign(custom, clean, item)
  }
  return custom
}
