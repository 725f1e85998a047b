// Small value helpers that mirror how the Countly server coerces params.

export type JsonObject = Record<string, unknown>

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `common.isNumber`: numbers and numeric strings. */
export function isNumeric(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value)
  if (typeof value !== 'string') return false
  return !Number.isNaN(Number.parseFloat(value)) && Number.isFinite(Number(value))
}

/** Countly checks flags with plain truthiness (`if (params.qstring.begin_session)`). */
export function isTruthyParam(value: unknown): boolean {
  return Boolean(value)
}

/** Flag values an SDK can send without surprising the server. */
export function isCleanFlag(value: unknown): boolean {
  return value === 1 || value === '1' || value === true || value === 'true'
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value)
  try {
    const text = JSON.stringify(value)
    if (text === undefined) return String(value)
    return text.length > 80 ? `${text.slice(0, 77)}...` : text
  } catch {
    return String(value)
  }
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  try {
    return JSON.stringify(a) === JSON.stringify(b)
  } catch {
    return false
  }
}

/** Keys that could poison prototypes or mean something to Mongo. */
export function isSafeKey(key: string): boolean {
  return key !== '__proto__' && key !== 'constructor' && key !== 'prototype'
}

/** `Object.create(null)`-free copy that never assigns `__proto__`. */
export function safeAssign(target: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}
