import type { RemoteConfigOptions } from '../types.js'
import type { TelemeterCore } from './client.js'
import { describe } from './config.js'
import type { DeviceState } from './devices.js'
import { singleRequest } from './request.js'
import { SDK_NAME, SDK_VERSION } from './version.js'

export const REMOTE_CONFIG_KEY = 'remoteConfig'
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

function keyList(core: TelemeterCore, value: unknown, what: string): string[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value)) {
    core.logger.warnOnce(
      `rc:${what}`,
      `fetchRemoteConfig ${what} must be an array of strings, got ${describe(value)}; ignored`,
    )
    return undefined
  }
  const keys = value.filter((key): key is string => typeof key === 'string' && key !== '')
  return keys.length > 0 ? keys : undefined
}

/** Only plain JSON objects from the server become the cache; prototype keys never do. */
function plainValues(value: unknown): Record<string, unknown> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
  const result: Record<string, unknown> = {}
  for (const [key, inner] of Object.entries(value)) if (!PROTOTYPE_KEYS.has(key)) result[key] = inner
  return result
}

export function restoreRemoteConfig(core: TelemeterCore): void {
  const saved = core.values[REMOTE_CONFIG_KEY]
  if (!saved) return
  try {
    core.self.remoteConfig = plainValues(JSON.parse(saved))
  } catch {
    core.logger.warn('stored remote config was unreadable and is reset')
  }
}

function store(core: TelemeterCore, device: DeviceState, values: Record<string, unknown> | undefined): void {
  device.remoteConfig = values
  if (device === core.self) core.setValue(REMOTE_CONFIG_KEY, values ? JSON.stringify(values) : null)
}

export function clearRemoteConfig(core: TelemeterCore, device: DeviceState): void {
  if (device.remoteConfig !== undefined) store(core, device, undefined)
}

export function getRemoteConfigOf(core: TelemeterCore, device: DeviceState, key?: unknown): unknown {
  if (core.gate.refusal('remote-config', device)) return key === undefined ? {} : undefined
  const values = device.remoteConfig ?? {}
  if (key === undefined) return { ...values }
  if (typeof key !== 'string') return undefined
  return Object.hasOwn(values, key) ? values[key] : undefined
}

/**
 * `GET /o/sdk?method=rc` (PROTOCOL §4). A full fetch replaces the cache, a
 * keyed fetch updates only those keys. When the server cannot be reached the
 * cached values are served. Never rejects.
 */
export async function fetchRemoteConfigOf(
  core: TelemeterCore,
  device: DeviceState,
  options: RemoteConfigOptions | undefined,
): Promise<Record<string, unknown>> {
  const refusal = core.gate.refusal('remote-config', device)
  if (refusal) {
    core.logger.debug(`fetchRemoteConfig refused (${refusal})`)
    return {}
  }
  await core.ready
  // Consent of the instance's own device is known only once storage is open.
  if (core.gate.refusal('remote-config', device)) return {}
  const transport = core.http
  if (!transport || !core.gate.serverNetworking || core.closed) return { ...(device.remoteConfig ?? {}) }
  const given = options && typeof options === 'object' ? options : {}
  const keys = keyList(core, given.keys, 'keys')
  const omitKeys = keyList(core, given.omitKeys, 'omitKeys')
  const timestamp = core.clock.uniqueTimestamp()
  const params: Record<string, unknown> = {
    method: 'rc',
    app_key: core.config.appKey,
    device_id: core.wireOf(device),
    t: device.idType,
    timestamp,
    hour: core.clock.hourOf(timestamp),
    dow: core.clock.dowOf(timestamp),
    tz: core.clock.fields(timestamp).tz,
    sdk_name: SDK_NAME,
    sdk_version: SDK_VERSION,
    av: core.appVersion,
    metrics: core.metrics(),
  }
  if (keys) params.keys = keys
  if (omitKeys) params.omit_keys = omitKeys
  try {
    const response = await transport.send(
      singleRequest('/o/sdk', params, {
        appKey: core.config.appKey,
        salt: core.config.salt,
        forcePost: core.config.forcePost,
      }),
    )
    let values: Record<string, unknown> | undefined
    try {
      values =
        response.status >= 200 && response.status < 300 && !response.truncated
          ? plainValues(JSON.parse(response.body))
          : undefined
    } catch {
      values = undefined
    }
    if (!values) throw new Error(`unexpected answer (HTTP ${response.status})`)
    if (typeof values.result === 'string' && Object.keys(values).length === 1)
      throw new Error(String(values.result))
    // The device may have lost consent or changed while the request was in flight.
    if (core.gate.refusal('remote-config', device)) return {}
    // A full fetch replaces the cache; a keyed or omit_keys fetch updates only what it fetched.
    store(core, device, keys || omitKeys ? { ...(device.remoteConfig ?? {}), ...values } : values)
    return { ...device.remoteConfig }
  } catch (error) {
    core.logger.warnOnce(
      'rc:fetch',
      `remote config could not be fetched (${(error as Error).message}); cached values are used`,
    )
    core.health.recordError((error as Error).message)
    return { ...(device.remoteConfig ?? {}) }
  }
}
