import { createHash } from 'node:crypto'
import type { IngestedRequest, IngestOutcome, ViolationCode } from '../types.js'
import { processApm } from './apm.js'
import { verifyChecksum } from './checksum.js'
import { processConsent } from './consent.js'
import { ZERO_DEVICE_ID } from './constants.js'
import { createItemContext, type ItemContext } from './context.js'
import { processCrash } from './crash.js'
import { bumpDuplicateTimestamps, processEvents } from './events.js'
import { processLocation } from './location.js'
import { processMetrics } from './metrics.js'
import { arrayParam, objectParam, parseNestedParams, stringParam } from './params.js'
import { requestHash } from './request-hash.js'
import { type Answer, message, output } from './respond.js'
import { finalisePending, processSession } from './sessions.js'
import { emit, recordViolation, type ServerState } from './state.js'
import { parseDow, parseHour, type RequestTime, resolveTimestamp, timeFromMs } from './time.js'
import { processUserDetails } from './user-details.js'
import { findUser, processUser, updateUserFields } from './users.js'
import { describe, type JsonObject } from './values.js'

/** One `/i` request or one `/i/bulk` item, ready for the pipeline. */
export interface IngestInput {
  via: 'GET' | 'POST' | 'bulk'
  /** Endpoint the carrying HTTP request went to (`/i` or `/i/bulk`). */
  endpoint: string
  /** Query and body params merged (bulk: the item, `app_key` filled in). */
  params: JsonObject
  /** Raw query and body for the checksum; `undefined` for bulk items. */
  checksumPayloads: readonly string[] | undefined
  /** Text the duplicate-request hash is computed from. */
  hashPayload: string
  /** Connection or forwarded IP. */
  ip: string
  requestIndex: number
}

/** A stand-in for the 24-char Mongo id of an app, used in crash group ids. */
export function appIdFor(appKey: string): string {
  return createHash('sha1').update(appKey).digest('hex').slice(0, 24)
}

/**
 * The `/i` pipeline of PROTOCOL §2 steps 3–13: required params, zero IDFA,
 * app lookup, time, checksum, duplicate check, user creation / merge, then
 * location, session, metrics, user fields, consent, events, crash, APM and
 * user details, and finally the answer.
 */
export function ingest(state: ServerState, input: IngestInput): Answer {
  const now = Date.now()
  const bulk = input.via === 'bulk'
  const rawDeviceId = input.params.device_id
  const rawAppKey = input.params.app_key
  const deviceId = rawDeviceId ? String(rawDeviceId) : undefined
  const appKey = rawAppKey ? String(rawAppKey) : undefined
  // Violations are recorded after the item, so live output reads item first.
  const pending: [ViolationCode, string][] = []
  const violate = (code: ViolationCode, text: string) => {
    pending.push([code, text])
  }
  const parsed = parseNestedParams(input.params, violate)
  const item: IngestedRequest = {
    via: input.via,
    params: parsed.params,
    device_id: deviceId,
    app_key: appKey,
    outcome: 'processed',
    reason: undefined,
    timestamp: now,
    requestIndex: input.requestIndex,
    receivedAt: now,
  }
  const finish = (outcome: IngestOutcome, reason: string | undefined, answer: Answer): Answer => {
    item.outcome = outcome
    item.reason = reason
    state.items.push(item)
    emit(state, { kind: 'item', item })
    for (const [code, text] of pending) recordViolation(state, code, text, input.endpoint, deviceId)
    return answer
  }

  if (!appKey || !deviceId) {
    const text = 'Missing parameter "app_key" or "device_id"'
    if (!bulk) return finish('rejected', text, message(400, text))
    violate('bulk-item-skipped', 'a bulk item without device_id or app_key is skipped silently')
    return finish('ignored', text, message(400, text))
  }
  if (bulk) {
    for (const name of ['app_id', 'user_id'] as const) {
      if (input.params[name] !== undefined) violate('forbidden-param', `SDKs must never send "${name}"`)
    }
  }
  if (deviceId === ZERO_DEVICE_ID) {
    violate('zero-device-id', 'the all-zero device id is ignored by the server')
    return finish('ignored', 'Ignoring device_id', message(200, 'Ignoring device_id'))
  }
  if (!state.options.appKeys.includes(appKey)) {
    if (bulk)
      violate('bulk-item-rejected', `bulk item with unknown app_key ${describe(appKey)} is dropped silently`)
    return finish('rejected', 'App does not exist', message(400, 'App does not exist'))
  }
  const time = requestTime(input.params, now, violate, true)
  item.timestamp = time.ms
  const salt = state.options.salt
  if (salt !== undefined) {
    if (bulk) {
      violate(
        'bulk-with-salt',
        'bulk with salt is unsupported by the real server: send single /i requests with checksum256',
      )
      return finish('rejected', 'bulk with salt is unsupported by the real server', message(200, 'Success'))
    }
    const result = verifyChecksum(parsed.params, input.checksumPayloads ?? [], salt)
    if (!result.ok) {
      const missing = result.message === 'Request does not have checksum'
      violate(
        missing ? 'checksum-missing' : 'checksum-mismatch',
        `${result.message}: the server answers 200 but drops the request`,
      )
      return finish('rejected', result.message, message(200, result.message))
    }
  }
  const hash = requestHash(input.hashPayload, input.params.timestamp, time.ms)
  const existing = findUser(state, appKey, deviceId)
  if (state.options.preventDuplicateRequests && existing?.doc.last_req === hash) {
    return finish(
      'duplicate',
      'Duplicate request',
      output({ result: 'Success', info: 'Request ignored: Duplicate request' }),
    )
  }
  const user = processUser(
    state,
    appKey,
    deviceId,
    stringParam(input.params, 'old_device_id'),
    time.s,
    (record) => finalisePending(state, record),
  )
  const ctx = createItemContext(state, {
    endpoint: input.endpoint,
    appKey,
    deviceId,
    params: parsed.params,
    time,
    user,
    violate,
  })
  processLocation(ctx)
  processSession(ctx, hash)
  processMetrics(ctx, objectParam(parsed, 'metrics', violate), true)
  updateUserFields(ctx, parsed, stringParam(input.params, 'ip_address') ?? input.ip)
  processConsent(ctx, objectParam(parsed, 'consent', violate))
  processEvents(ctx, arrayParam(parsed, 'events', violate))
  processCrash(ctx, objectParam(parsed, 'crash', violate), appIdFor(appKey))
  processApm(ctx, objectParam(parsed, 'apm', violate))
  processUserDetails(ctx, objectParam(parsed, 'user_details', violate))
  user.doc.last_req = hash
  const answer = finish('processed', undefined, message(200, 'Success'))
  commit(ctx)
  return answer
}

/** `params.time`: the request timestamp (or now) with request-level `hour` / `dow`. */
export function requestTime(
  params: JsonObject,
  now: number,
  violate: (code: ViolationCode, text: string) => void,
  requireTimestamp: boolean,
): RequestTime {
  const resolved = resolveTimestamp(params.timestamp, now)
  if (resolved.status === 'missing' && requireTimestamp) {
    violate(
      'missing-timestamp',
      'request without timestamp: the server uses its own time and retries cannot be deduplicated',
    )
  } else if (resolved.status === 'invalid') {
    violate(
      'invalid-timestamp',
      `timestamp ${describe(params.timestamp)} is not 10 or 13 digits; the server uses its own time`,
    )
  } else if (resolved.status === 'future') {
    violate(
      'invalid-timestamp',
      `timestamp ${describe(params.timestamp)} is in the future; the server clamps it to now`,
    )
  }
  const hour = parseHour(params.hour)
  const dow = parseDow(params.dow)
  if (!hour.valid) violate('invalid-time-field', `hour ${describe(params.hour)} is not 0-23`)
  if (!dow.valid) violate('invalid-time-field', `dow ${describe(params.dow)} is not 0-6 (Sunday = 0)`)
  return timeFromMs(resolved.ms, hour.value, dow.value)
}

function commit(ctx: ItemContext): void {
  const { state } = ctx
  bumpDuplicateTimestamps(ctx.events)
  for (const event of ctx.events) {
    state.events.push(event)
    emit(state, { kind: 'event', event })
  }
  for (const crash of ctx.crashes) {
    state.crashes.push(crash)
    emit(state, { kind: 'crash', crash })
  }
  for (const trace of ctx.traces) {
    state.traces.push(trace)
    emit(state, { kind: 'trace', trace })
  }
}
