import type { Limits } from '../types.js'
import { describe } from './config.js'
import type { TelemeterLogger } from './logger.js'

/** Segment values the server keeps. */
export type SegmentValue = string | number | boolean | (string | number | boolean)[]
export type Segmentation = Record<string, SegmentValue>

const MAX_ARRAY_ITEMS = 10
/** The server's legacy aggregation drops event keys of 128 characters or more (PROTOCOL §2.6). */
const MAX_SERVER_EVENT_KEY_LENGTH = 127
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

/**
 * Cleans what the host hands us so that only values a Countly server stores
 * faithfully reach the wire. Every change is warned about once per cause.
 * The fast path (already valid input) allocates nothing but the result.
 */
export class Sanitizer {
  constructor(
    /** Shared with the runtime settings: server-side settings may change it. */
    private readonly limits: Readonly<Required<Limits>>,
    private readonly logger: TelemeterLogger,
  ) {}

  /** A well-formed string of at most `max` UTF-16 units, never splitting a surrogate pair. */
  string(value: string, max: number, what: string): string {
    let result = value
    if (result.length > max) {
      this.logger.warnOnce(`truncate:${what}`, `${what} longer than ${max} characters was truncated`)
      result = result.slice(0, max)
    }
    if (!result.isWellFormed()) {
      this.logger.warnOnce(`utf16:${what}`, `${what} contained invalid UTF-16; lone surrogates were replaced`)
      result = result.toWellFormed()
    }
    return result
  }

  /**
   * An event key or trace name: a non-empty string, truncated to the key limit.
   * `[CLY]_` is reserved for the SDK's own events unless `internal` is set.
   */
  key(value: unknown, what: string, internal = false): string | undefined {
    if (typeof value !== 'string') {
      if (typeof value === 'number' && Number.isFinite(value)) return String(value)
      this.logger.warnOnce(
        `key-type:${what}`,
        `${what} must be a non-empty string, got ${describe(value)}; dropped`,
      )
      return undefined
    }
    const trimmed = value.trim()
    if (trimmed === '') {
      this.logger.warnOnce(`key-empty:${what}`, `${what} must be a non-empty string; dropped`)
      return undefined
    }
    if (!internal && trimmed.startsWith('[CLY]_')) {
      this.logger.warnOnce(
        `key-reserved:${trimmed}`,
        `${what} "${trimmed}" uses the reserved [CLY]_ prefix; dropped`,
      )
      return undefined
    }
    return this.string(trimmed, Math.min(this.limits.keyLength, MAX_SERVER_EVENT_KEY_LENGTH), what)
  }

  /** A finite number, or undefined with a warning. */
  number(value: unknown, what: string, min = Number.NEGATIVE_INFINITY): number | undefined {
    if (value === undefined) return undefined
    if (typeof value === 'number' && Number.isFinite(value) && value >= min) return value
    this.logger.warnOnce(
      `number:${what}`,
      `${what} must be a finite number >= ${min}, got ${describe(value)}; ignored`,
    )
    return undefined
  }

  /** Event count: a positive integer, 1 when missing or invalid. */
  count(value: unknown): number {
    if (value === undefined) return 1
    if (typeof value === 'number' && Number.isFinite(value) && value >= 1) return Math.round(value)
    this.logger.warnOnce('count', `event count must be a number >= 1, got ${describe(value)}; 1 is used`)
    return 1
  }

  /**
   * Segmentation as the server stores it: at most `segmentationValues`
   * entries; keys truncated, never `$`-prefixed, dotted or prototype names;
   * values strings (truncated), finite numbers, booleans, or arrays of those
   * (at most 10). Anything else is dropped.
   */
  segmentation(
    value: unknown,
    what = 'segmentation',
    reserved?: ReadonlySet<string>,
  ): Segmentation | undefined {
    if (value === undefined || value === null) return undefined
    if (typeof value !== 'object' || Array.isArray(value)) {
      this.logger.warnOnce(
        `seg-type:${what}`,
        `${what} must be a plain object, got ${describe(value)}; ignored`,
      )
      return undefined
    }
    const result: Segmentation = {}
    let entries = 0
    let keys: string[]
    try {
      keys = Object.keys(value)
    } catch {
      this.logger.warnOnce(`seg-keys:${what}`, `${what} could not be read; ignored`)
      return undefined
    }
    for (const rawKey of keys) {
      if (entries >= this.limits.segmentationValues) {
        this.logger.warnOnce(
          `seg-limit:${what}`,
          `${what} has more than ${this.limits.segmentationValues} entries; the rest were dropped`,
        )
        break
      }
      const key = this.segmentKey(rawKey, what, reserved)
      if (key === undefined) continue
      let raw: unknown
      try {
        raw = (value as Record<string, unknown>)[rawKey]
      } catch {
        continue
      }
      const clean = this.segmentValue(raw, key, what)
      if (clean === undefined) continue
      result[key] = clean
      entries++
    }
    return entries === 0 ? undefined : result
  }

  private segmentKey(
    key: string,
    what: string,
    reserved: ReadonlySet<string> | undefined,
  ): string | undefined {
    if (
      key === '' ||
      PROTOTYPE_KEYS.has(key) ||
      key.startsWith('$') ||
      key.includes('.') ||
      reserved?.has(key)
    ) {
      this.logger.warnOnce(
        `seg-key:${what}:${key}`,
        `${what} key "${key}" is reserved or would be rewritten by the server; removed`,
      )
      return undefined
    }
    return key.length > this.limits.keyLength || !key.isWellFormed()
      ? this.string(key, this.limits.keyLength, `${what} key`)
      : key
  }

  private segmentValue(value: unknown, key: string, what: string): SegmentValue | undefined {
    switch (typeof value) {
      case 'string':
        return value.length > this.limits.valueSize || !value.isWellFormed()
          ? this.string(value, this.limits.valueSize, `${what} value`)
          : value
      case 'number':
        if (Number.isFinite(value)) return value
        break
      case 'boolean':
        return value
      case 'object':
        if (Array.isArray(value)) return this.segmentArray(value, key, what)
        break
    }
    this.logger.warnOnce(
      `seg-value:${what}:${key}`,
      `${what} value of "${key}" must be a string, finite number, boolean or an array of them, got ${describe(value)}; removed`,
    )
    return undefined
  }

  private segmentArray(values: unknown[], key: string, what: string): SegmentValue | undefined {
    const result: (string | number | boolean)[] = []
    for (const item of values.slice(0, MAX_ARRAY_ITEMS)) {
      const clean = typeof item === 'object' ? undefined : this.segmentValue(item, key, what)
      if (clean !== undefined && !Array.isArray(clean)) result.push(clean)
    }
    if (values.length > MAX_ARRAY_ITEMS) {
      this.logger.warnOnce(
        `seg-array:${what}:${key}`,
        `${what} array "${key}" has more than 10 items; truncated`,
      )
    }
    return result.length > 0 ? result : undefined
  }
}

/** Device ids: control characters stripped, length capped, never empty. */
export function cleanDeviceId(value: unknown, maxLength: number): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined
  const cleaned = String(value)
    .replace(/\p{Cc}/gu, '')
    .trim()
  if (cleaned === '' || cleaned === '00000000-0000-0000-0000-000000000000') return undefined
  const capped = cleaned.length > maxLength ? cleaned.slice(0, maxLength) : cleaned
  return capped.isWellFormed() ? capped : capped.toWellFormed()
}
