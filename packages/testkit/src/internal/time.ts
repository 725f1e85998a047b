import { FUTURE_TIMESTAMP_TOLERANCE_MS } from './constants.js'
import { isNumeric } from './values.js'

/** The request time the server uses (`params.time`). App timezone is UTC. */
export interface RequestTime {
  ms: number
  s: number
  hour: number
  dow: number
}

export type TimestampStatus = 'ok' | 'missing' | 'invalid' | 'future'

/**
 * `common.initTimeObj`: a numeric timestamp whose rounded integer part has 10
 * (seconds) or 13 (ms) digits is used; anything else means "now". Future
 * times are clamped to now.
 */
export function resolveTimestamp(raw: unknown, nowMs: number): { ms: number; status: TimestampStatus } {
  if (raw === undefined || raw === null || raw === '') return { ms: nowMs, status: 'missing' }
  if (!isNumeric(raw)) return { ms: nowMs, status: 'invalid' }
  const value = Number.parseFloat(String(raw))
  const digits = String(Math.round(value)).length
  let ms: number
  if (digits === 10) ms = Math.round(value * 1000)
  else if (digits === 13) ms = Math.round(value)
  else return { ms: nowMs, status: 'invalid' }
  if (ms > nowMs) return { ms: nowMs, status: ms - nowMs > FUTURE_TIMESTAMP_TOLERANCE_MS ? 'future' : 'ok' }
  return { ms, status: 'ok' }
}

/** `hour` 0–23 (24 is read as 0, reported because it is out of range). `undefined` = not sent. */
export function parseHour(raw: unknown): { value: number | undefined; valid: boolean } {
  return parseBounded(raw, 23, (n) => (n === 24 ? 0 : n))
}

/** `dow` 0–6, Sunday = 0. */
export function parseDow(raw: unknown): { value: number | undefined; valid: boolean } {
  return parseBounded(raw, 6, (n) => n)
}

function parseBounded(
  raw: unknown,
  max: number,
  map: (n: number) => number,
): { value: number | undefined; valid: boolean } {
  if (raw === undefined || raw === null || raw === '') return { value: undefined, valid: true }
  const n = isNumeric(raw) ? Number(raw) : Number.NaN
  if (!Number.isInteger(n)) return { value: undefined, valid: false }
  const mapped = map(n)
  if (mapped < 0 || mapped > max) return { value: undefined, valid: false }
  return { value: mapped, valid: mapped === n }
}

export function timeFromMs(ms: number, hour?: number, dow?: number): RequestTime {
  const date = new Date(ms)
  return {
    ms,
    s: Math.floor(ms / 1000),
    hour: hour ?? date.getUTCHours(),
    dow: dow ?? date.getUTCDay(),
  }
}
