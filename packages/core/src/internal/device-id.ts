import type { ChangeDeviceIdOptions } from '../types.js'
import type { TelemeterCore } from './client.js'
import { describe, MAX_DEVICE_ID_LENGTH } from './config.js'
import type { DeviceState } from './devices.js'
import { DEVICE_ID_KEY } from './file-storage.js'
import { clearRemoteConfig, fetchRemoteConfigOf } from './remote-config.js'
import { cleanDeviceId } from './sanitize.js'
import { beginSessionOf, endSessionOf } from './session.js'
import { closeViewOf } from './views.js'

export const DEVICE_ID_TYPE_KEY = 'deviceIdType'

/**
 * The three device-id change cases of the Countly SDK guide:
 * - same id: nothing happens;
 * - `merge: true`: the server folds the old user into the new one
 *   (`old_device_id`), the session carries on;
 * - `merge: false`: a different user from now on: pending events go out under
 *   the old id, its session ends, timed events and consent are cleared, and a
 *   new session begins under the new id.
 * Returns the id in use afterwards.
 */
export function changeDeviceIdOf(
  core: TelemeterCore,
  device: DeviceState,
  rawId: unknown,
  options: ChangeDeviceIdOptions | undefined,
): string {
  const id = cleanDeviceId(rawId, MAX_DEVICE_ID_LENGTH)
  if (id === undefined) {
    core.logger.warnOnce(
      'changeDeviceId',
      `changeDeviceId needs a non-empty string id, got ${describe(rawId)}; ignored`,
    )
    return device.id
  }
  if (id === device.id) return device.id
  const merge = options !== null && typeof options === 'object' && options.merge === true
  if (device !== core.self) core.devices.release(id)
  // A different person: the current view ends (its duration reported) under the old id.
  if (!merge) closeViewOf(core, device)
  core.flushDevice(device)
  const oldWireId = core.wireOf(device)
  if (merge) {
    rename(core, device, id)
    core.enqueue(device, 'internal', { old_device_id: oldWireId }, 0)
  } else {
    const hadSession = device.sessionActive
    if (hadSession) endSessionOf(core, device)
    device.timed = undefined
    device.viewsInSession = 0
    device.breadcrumbs = undefined
    device.userChanges = undefined
    if (core.gate.requireConsent && device.consent) {
      device.consent = undefined
      if (device === core.self) core.setValue('consent', null)
    }
    rename(core, device, id)
    if (hadSession || (device === core.self && core.config.sessions === 'auto')) beginSessionOf(core, device)
  }
  clearRemoteConfig(core, device)
  if (core.config.remoteConfigAuto) void fetchRemoteConfigOf(core, device, undefined)
  return id
}

function rename(core: TelemeterCore, device: DeviceState, id: string): void {
  if (device === core.self) {
    device.id = id
    device.wireId = ''
    core.setValue(DEVICE_ID_KEY, id)
    core.setValue(DEVICE_ID_TYPE_KEY, '0')
  } else {
    core.devices.rename(device, id)
    device.wireId = ''
  }
  device.idType = 0
}
