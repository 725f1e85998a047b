import { ARRAY_LIST_LIMIT } from './constants.js'
import type { ItemContext } from './context.js'
import { describe, isPlainObject, type JsonObject, safeAssign } from './values.js'

/**
 * Segmentation as drill stores it (PROTOCOL §2.6): leading `$` and every `.`
 * removed from keys, empty keys and null values skipped, arrays truncated to
 * `api.array_list_limit`, nested objects dropped. Every change is reported.
 */
export function sanitiseSegmentation(ctx: ItemContext, raw: unknown, eventKey: string): JsonObject {
  const result: JsonObject = {}
  if (raw === undefined || raw === null) return result
  if (!isPlainObject(raw)) {
    ctx.violate(
      'invalid-segmentation',
      `segmentation of "${eventKey}" must be an object, got ${describe(raw)}`,
    )
    return result
  }
  for (const [key, value] of Object.entries(raw)) {
    const cleanKey = key.replace(/^\$/, '').replace(/\./g, '')
    if (cleanKey === '') {
      ctx.violate(
        'invalid-segmentation',
        `segmentation key ${describe(key)} of "${eventKey}" is empty once sanitised`,
      )
      continue
    }
    if (cleanKey !== key) {
      ctx.violate(
        'invalid-segmentation',
        `segmentation key ${describe(key)} of "${eventKey}" is stored as "${cleanKey}"`,
      )
    }
    if (value === null || value === undefined) {
      ctx.violate(
        'invalid-segmentation',
        `segmentation "${key}" of "${eventKey}" is null; the server skips it`,
      )
      continue
    }
    if (Array.isArray(value)) {
      if (value.length > ARRAY_LIST_LIMIT) {
        ctx.violate(
          'invalid-segmentation',
          `segmentation "${key}" of "${eventKey}" has ${value.length} items; the server keeps ${ARRAY_LIST_LIMIT}`,
        )
      }
      safeAssign(result, cleanKey, value.slice(0, ARRAY_LIST_LIMIT))
      continue
    }
    if (typeof value === 'object') {
      ctx.violate(
        'invalid-segmentation',
        `segmentation "${key}" of "${eventKey}" is an object; the server drops it`,
      )
      continue
    }
    safeAssign(result, cleanKey, value)
  }
  return result
}
