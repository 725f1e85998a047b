import type { ViolationCode } from '../types.js'
import { JSON_PARAMS } from './constants.js'
import { describe, isPlainObject, type JsonObject } from './values.js'

type Violate = (code: ViolationCode, message: string) => void

/** Params of one request with the nested JSON ones parsed, and which ones failed to parse. */
export interface ParsedParams {
  params: JsonObject
  malformed: ReadonlySet<string>
}

/**
 * Nested params arrive as JSON strings (GET, urlencoded) or as real values
 * (JSON bodies); the server `JSON.parse`s strings and treats a parse failure
 * as if the param were absent.
 */
export function parseNestedParams(raw: JsonObject, violate: Violate): ParsedParams {
  const params: JsonObject = { ...raw }
  const malformed = new Set<string>()
  for (const name of JSON_PARAMS) {
    const value = params[name]
    if (typeof value !== 'string') continue
    try {
      params[name] = JSON.parse(value)
    } catch {
      malformed.add(name)
      violate('malformed-json', `"${name}" is not valid JSON, the server ignores it: ${describe(value)}`)
    }
  }
  return { params, malformed }
}

/** A nested param that must be an object; reports a wrong type once. */
export function objectParam(parsed: ParsedParams, name: string, violate: Violate): JsonObject | undefined {
  const value = parsed.params[name]
  if (value === undefined || value === null || value === '' || parsed.malformed.has(name)) return undefined
  if (isPlainObject(value)) return value
  violate('invalid-param', `"${name}" must be a JSON object, got ${describe(value)}; the server ignores it`)
  return undefined
}

/** A nested param that must be an array; reports a wrong type once. */
export function arrayParam(parsed: ParsedParams, name: string, violate: Violate): unknown[] | undefined {
  const value = parsed.params[name]
  if (value === undefined || value === null || value === '' || parsed.malformed.has(name)) return undefined
  if (Array.isArray(value)) return value
  violate('invalid-param', `"${name}" must be a JSON array, got ${describe(value)}; the server ignores it`)
  return undefined
}

/** A scalar param as the server's `+ ""` coercion sees it. */
export function stringParam(params: JsonObject, name: string): string | undefined {
  const value = params[name]
  if (value === undefined || value === null) return undefined
  return typeof value === 'string' ? value : String(value)
}
