import type { ViolationCode } from '../types.js'
import { verifyChecksum } from './checksum.js'
import { createItemContext } from './context.js'
import { requestTime } from './ingest.js'
import { processLocation } from './location.js'
import { processMetrics } from './metrics.js'
import { arrayParam, objectParam, parseNestedParams, stringParam } from './params.js'
import { type Answer, message, output } from './respond.js'
import { finalisePending } from './sessions.js'
import { recordViolation, type ServerState } from './state.js'
import { processUser } from './users.js'
import { isTruthyParam, type JsonObject } from './values.js'

/**
 * `/o/sdk` (PROTOCOL §4): `validateAppForFetchAPI` (required params, app,
 * time, checksum, metrics processed but not stored, location, user created
 * or merged), then dispatch on `method`.
 */
export function processSdkRequest(
  state: ServerState,
  params: JsonObject,
  checksumPayloads: readonly string[],
  endpoint: string,
): Answer {
  const deviceId = params.device_id ? String(params.device_id) : undefined
  const appKey = params.app_key ? String(params.app_key) : undefined
  const violate = (code: ViolationCode, text: string) =>
    recordViolation(state, code, text, endpoint, deviceId)
  const parsed = parseNestedParams(params, violate)
  if (!appKey || !deviceId) return message(400, 'Missing parameter "app_key" or "device_id"')
  if (!state.options.appKeys.includes(appKey)) return message(400, 'App does not exist')
  const time = requestTime(params, Date.now(), violate, false)
  const salt = state.options.salt
  if (salt !== undefined) {
    const result = verifyChecksum(parsed.params, checksumPayloads, salt)
    if (!result.ok) {
      const missing = result.message === 'Request does not have checksum'
      violate(missing ? 'checksum-missing' : 'checksum-mismatch', `${result.message} (on ${endpoint})`)
      return message(200, result.message)
    }
  }
  const user = processUser(state, appKey, deviceId, stringParam(params, 'old_device_id'), time.s, (record) =>
    finalisePending(state, record),
  )
  const ctx = createItemContext(state, { endpoint, appKey, deviceId, params: parsed.params, time, user })
  processMetrics(ctx, objectParam(parsed, 'metrics', violate), false)
  processLocation(ctx)

  const method = stringParam(params, 'method')
  switch (method) {
    case 'rc':
    case 'fetch_remote_config': {
      const keys = arrayParam(parsed, 'keys', violate)?.map(String)
      const omitKeys = arrayParam(parsed, 'omit_keys', violate)?.map(String)
      const values: JsonObject = {}
      for (const [key, value] of Object.entries(state.remoteConfig)) {
        if (keys ? keys.includes(key) : !omitKeys?.includes(key)) values[key] = value
      }
      if (isTruthyParam(params.oi)) enrol(user.doc.rc_enrolments, Object.keys(values))
      return output(values)
    }
    case 'ab': {
      const keys = arrayParam(parsed, 'keys', violate)?.map(String)
      if (!keys || keys.length === 0) return message(400, 'Missing Keys')
      enrol(user.doc.rc_enrolments, keys)
      return message(200, 'Successfully enrolled in ab tests')
    }
    case 'sc':
      return output({ v: 2, t: Date.now(), c: state.sdkConfig })
    case 'feedback':
      return output({ result: [] })
    default:
      return message(400, 'Invalid method')
  }
}

function enrol(enrolments: string[], keys: readonly string[]): void {
  for (const key of keys) if (!enrolments.includes(key)) enrolments.push(key)
}
