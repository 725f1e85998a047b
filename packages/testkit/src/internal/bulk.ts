import { ingest } from './ingest.js'
import { type Answer, message } from './respond.js'
import { recordViolation, type ServerState } from './state.js'
import { describe, isPlainObject, type JsonObject } from './values.js'

/** A validated `/i/bulk` call: the answer to give and the work to do. */
export interface BulkPlan {
  answer: Answer
  /** Process every item sequentially through the `/i` pipeline. */
  process: () => void
}

/**
 * `/i/bulk` (PROTOCOL §3): `requests` must be (a JSON string of) an array;
 * items lacking `device_id` or any `app_key` are skipped; each other item
 * runs the full `/i` pipeline and is deduplicated on `"&" + JSON.stringify(item)`.
 */
export function planBulk(
  state: ServerState,
  params: JsonObject,
  ip: string,
  requestIndex: number,
  endpoint: string,
): BulkPlan {
  const nothing = () => {}
  let requests: unknown = params.requests
  if (typeof requests === 'string' && requests !== '') {
    try {
      requests = JSON.parse(requests)
    } catch {
      recordViolation(
        state,
        'malformed-json',
        `"requests" is not valid JSON: ${describe(params.requests)}`,
        endpoint,
      )
      requests = null
    }
  }
  if (!requests) return { answer: message(400, 'Missing parameter "requests"'), process: nothing }
  if (!Array.isArray(requests))
    return { answer: message(400, 'Invalid parameter "requests"'), process: nothing }
  const list: unknown[] = requests
  const topAppKey = params.app_key
  return {
    answer: message(200, 'Success'),
    process: () => {
      for (const raw of list) {
        const item: JsonObject = isPlainObject(raw) ? { ...raw } : {}
        if (raw && isPlainObject(raw) && (item.app_key || topAppKey) && item.device_id) {
          item.app_key = item.app_key || topAppKey
        }
        ingest(state, {
          via: 'bulk',
          endpoint,
          params: item,
          checksumPayloads: undefined,
          hashPayload: `&${JSON.stringify(item)}`,
          ip: typeof item.ip_address === 'string' ? item.ip_address : ip,
          requestIndex,
        })
      }
    },
  }
}
