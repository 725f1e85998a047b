import type { TelemeterCore } from './client.js'
import type { DeviceState } from './devices.js'
import { sessionLocation } from './location.js'
import { closeViewOf } from './views.js'

/** Whole seconds since the last session update; the remainder carries over so long sessions do not drift. */
function elapsedSeconds(core: TelemeterCore, device: DeviceState, until = core.clock.timestamp()): number {
  const seconds = Math.max(0, Math.floor((until - device.sessionUpdatedAt) / 1000))
  device.sessionUpdatedAt += seconds * 1000
  return seconds
}

export function beginSessionOf(core: TelemeterCore, device: DeviceState): void {
  const refusal = core.gate.refusal('sessions', device)
  if (refusal) return core.refuse('sessions', refusal, 0)
  if (device.sessionActive) {
    core.logger.debug(`beginSession ignored: a session is already running for ${device.id}`)
    return
  }
  core.flushDevice(device)
  device.sessionActive = true
  device.sessionUpdatedAt = core.clock.timestamp()
  device.viewsInSession = 0
  const params: Record<string, string | number> = { begin_session: 1 }
  if (device.ip) params.ip_address = device.ip
  Object.assign(params, sessionLocation(core, device))
  core.enqueue(device, 'sessions', params, 0, { metrics: true })
}

export function extendSessionOf(core: TelemeterCore, device: DeviceState): void {
  if (!device.sessionActive) {
    core.logger.debug(`extendSession ignored: no session is running for ${device.id}`)
    return
  }
  const refusal = core.gate.refusal('sessions', device)
  if (refusal) return core.refuse('sessions', refusal, 0)
  const seconds = elapsedSeconds(core, device)
  if (seconds > 0) core.enqueue(device, 'sessions', { session_duration: seconds }, 0)
}

/** End the session; `endedAt` lets an idle session end at its last activity rather than now. */
export function endSessionOf(core: TelemeterCore, device: DeviceState, endedAt?: number): void {
  if (!device.sessionActive) {
    core.logger.debug(`endSession ignored: no session is running for ${device.id}`)
    return
  }
  closeViewOf(core, device)
  device.sessionActive = false
  const refusal = core.gate.refusal('sessions', device)
  if (refusal) return core.refuse('sessions', refusal, 0)
  // Events recorded during the session go out before its end.
  core.flushDevice(device)
  const seconds = elapsedSeconds(core, device, endedAt)
  core.enqueue(device, 'sessions', { end_session: 1, session_duration: seconds }, 0)
}

/**
 * Activity of a device whose session is managed for it (adapters): begin a
 * session on first activity, extend it at most once per update interval, and
 * let the registry end it after `idleMs` of silence.
 */
export function touchSessionOf(core: TelemeterCore, device: DeviceState, idleMs: number): void {
  if (device.sessionIdleMs !== idleMs) core.devices.watchSessionIdle(device, idleMs)
  if (!device.sessionActive) beginSessionOf(core, device)
  else if (core.clock.timestamp() - device.sessionUpdatedAt >= core.settings.sessionUpdateIntervalMs) {
    extendSessionOf(core, device)
  }
}
