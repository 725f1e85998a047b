import type { ReceivedEvent } from '../types.js'
import { EVENT_KEY_MAX_LENGTH, INTERNAL_EVENTS } from './constants.js'
import { type ItemContext, makeEvent } from './context.js'
import { processRating } from './ratings.js'
import { sanitiseSegmentation } from './segmentation.js'
import { parseDow, parseHour, resolveTimestamp } from './time.js'
import { describe, isNumeric, isPlainObject, type JsonObject } from './values.js'
import { processView } from './views.js'

const ID_FIELDS = ['id', 'cvid', 'pvid', 'peid'] as const

/** The `events` array of one request (PROTOCOL §2.6), appended to `ctx.events`. */
export function processEvents(ctx: ItemContext, events: unknown[] | undefined): void {
  if (!events) return
  for (const raw of events) {
    const event = processEvent(ctx, raw)
    if (event) ctx.events.push(event)
  }
}

function processEvent(ctx: ItemContext, raw: unknown): ReceivedEvent | undefined {
  if (!isPlainObject(raw)) {
    ctx.violate('invalid-event', `events entries must be objects, got ${describe(raw)}; dropped`)
    return undefined
  }
  const key = eventKey(ctx, raw.key)
  if (key === undefined) return undefined
  if (key === '[CLY]_orientation') {
    // Read to set the user's orientation, never stored.
    const mode = isPlainObject(raw.segmentation) ? raw.segmentation.mode : undefined
    if (mode !== undefined) ctx.user.doc.ornt = String(mode)
    return undefined
  }
  if (key.startsWith('[CLY]_') && !INTERNAL_EVENTS.has(key)) {
    ctx.violate('dropped-internal-event', `"${key}" is not a registered internal event; the server drops it`)
    return undefined
  }
  if (key.replace(/system\.|\.\.|\$/g, '').length >= EVENT_KEY_MAX_LENGTH) {
    ctx.violate(
      'event-key-too-long',
      `event key of ${key.length} chars (>= ${EVENT_KEY_MAX_LENGTH}) is dropped`,
    )
    return undefined
  }
  const event = makeEvent(ctx, {
    key,
    count: eventCount(ctx, key, raw.count),
    sum: eventNumber(ctx, key, 'sum', raw.sum),
    dur: eventNumber(ctx, key, 'dur', raw.dur),
    segmentation: sanitiseSegmentation(ctx, raw.segmentation, key),
    ...eventTime(ctx, key, raw),
  })
  if (typeof raw.name === 'string') event.name = raw.name
  for (const field of ID_FIELDS) {
    if (raw[field] !== undefined && raw[field] !== null) event[field] = String(raw[field])
  }
  if (key === '[CLY]_view') return processView(ctx, event)
  if (key === '[CLY]_star_rating') return processRating(ctx, event)
  return event
}

function eventKey(ctx: ItemContext, raw: unknown): string | undefined {
  if (raw === undefined || raw === null || raw === '') {
    ctx.violate('invalid-event', 'event without a key is dropped')
    return undefined
  }
  if (typeof raw === 'string') return raw
  const key = JSON.stringify(raw)
  ctx.violate('invalid-event', `event key ${describe(raw)} is not a string; stored as ${key}`)
  return key
}

function eventCount(ctx: ItemContext, key: string, raw: unknown): number {
  if (raw === undefined || raw === null) return 1
  const count = Number.parseInt(String(raw), 10)
  if (Number.isNaN(count)) {
    ctx.violate('invalid-count', `count ${describe(raw)} of "${key}" is not a number; the server uses 1`)
    return 1
  }
  if (!isNumeric(raw) || !Number.isInteger(Number(raw))) {
    ctx.violate(
      'invalid-count',
      `count ${describe(raw)} of "${key}" is not an integer; the server stores ${count}`,
    )
  }
  return count
}

function eventNumber(ctx: ItemContext, key: string, field: 'sum' | 'dur', raw: unknown): number | undefined {
  if (raw === undefined || raw === null) return undefined
  if (!isNumeric(raw)) {
    ctx.violate(
      field === 'sum' ? 'invalid-sum' : 'invalid-dur',
      `${field} ${describe(raw)} of "${key}" is dropped`,
    )
    return undefined
  }
  const value = Number(raw)
  return field === 'sum' ? Number.parseFloat(value.toFixed(5)) : value
}

function eventTime(
  ctx: ItemContext,
  key: string,
  raw: JsonObject,
): { timestamp: number; hour: number; dow: number } {
  let timestamp = ctx.time.ms
  if (raw.timestamp !== undefined) {
    const resolved = resolveTimestamp(raw.timestamp, Date.now())
    if (resolved.status === 'invalid') {
      ctx.violate(
        'invalid-timestamp',
        `timestamp ${describe(raw.timestamp)} of "${key}" is not 10 or 13 digits; the request time is used`,
      )
    } else {
      if (resolved.status === 'future') {
        ctx.violate('invalid-timestamp', `timestamp of "${key}" is in the future; clamped to now`)
      }
      timestamp = resolved.ms
    }
  }
  const hour = parseHour(raw.hour)
  const dow = parseDow(raw.dow)
  if (!hour.valid) ctx.violate('invalid-time-field', `hour ${describe(raw.hour)} of "${key}" is not 0-23`)
  if (!dow.valid) ctx.violate('invalid-time-field', `dow ${describe(raw.dow)} of "${key}" is not 0-6`)
  return { timestamp, hour: hour.value ?? ctx.time.hour, dow: dow.value ?? ctx.time.dow }
}

/** Drill ids must be unique: equal timestamps within one request are bumped by 1 ms. */
export function bumpDuplicateTimestamps(events: ReceivedEvent[]): void {
  const used = new Set<number>()
  for (const event of events) {
    while (used.has(event.timestamp)) event.timestamp += 1
    used.add(event.timestamp)
  }
}
