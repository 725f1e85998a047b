import type { TelemeterCore } from './client.js'
import type { DeviceState } from './devices.js'

/** Whole seconds since the last session update; the remainder carries over so long sessions do not drift. */
function elapsedSeconds(core: TelemeterCore, device: DeviceState): number {
  const now = core.clock.timestamp()
  const seconds = Math.max(0, Math.floor((now - device.sessionUpdatedAt) / 1000))
  device.sessionUpdatedAt += seconds * 1000
  return seconds
}

export function beginSessionOf(core: TelemeterCore, device: DeviceState): void {
  const refusal = core.gate.refusal('sessions')
  if (refusal) return core.refuse('sessions', refusal, 0)
  if (device.sessionActive) {
    core.logger.debug(`beginSession ignored: a session is already running for ${device.id}`)
    return
  }
  core.flushDevice(device)
  device.sessionActive = true
  device.sessionUpdatedAt = core.clock.timestamp()
  core.enqueue(device, 'sessions', { begin_session: 1 }, 0, { metrics: true })
}

export function extendSessionOf(core: TelemeterCore, device: DeviceState): void {
  if (!device.sessionActive) {
    core.logger.debug(`extendSession ignored: no session is running for ${device.id}`)
    return
  }
  const refusal = core.gate.refusal('sessions')
  if (refusal) return core.refuse('sessions', refusal, 0)
  const seconds = elapsedSeconds(core, device)
  if (seconds > 0) core.enqueue(device, 'sessions', { session_duration: seconds }, 0)
}

export function endSessionOf(core: TelemeterCore, device: DeviceState): void {
  if (!device.sessionActive) {
    core.logger.debug(`endSession ignored: no session is running for ${device.id}`)
    return
  }
  device.sessionActive = false
  const refusal = core.gate.refusal('sessions')
  if (refusal) return core.refuse('sessions', refusal, 0)
  // Events recorded during the session go out before its end.
  core.flushDevice(device)
  core.enqueue(device, 'sessions', { end_session: 1, session_duration: elapsedSeconds(core, device) }, 0)
}
