import type { DropReason, EventOptions } from '../types.js'
import type { TelemeterCore } from './client.js'
import { describe } from './config.js'
import type { DeviceState } from './devices.js'

/** Most timed events running at once per device; more are refused with a warning. */
const MAX_TIMED_EVENTS = 100

/** The wire shape of an event (PROTOCOL §2.6). */
export interface WireEvent {
  key: string
  count: number
  sum?: number
  dur?: number
  segmentation?: Record<string, unknown>
  timestamp: number
  hour: number
  dow: number
}

function optionsOf(core: TelemeterCore, options: unknown, what: string): EventOptions {
  if (options === undefined || options === null) return {}
  if (typeof options === 'object' && !Array.isArray(options)) return options as EventOptions
  core.logger.warnOnce(
    `options:${what}`,
    `${what} options must be an object, got ${describe(options)}; ignored`,
  )
  return {}
}

export function recordEvent(
  core: TelemeterCore,
  device: DeviceState,
  rawKey: unknown,
  rawOptions: unknown,
  extraDurationS?: number,
): void {
  const refusal = core.gate.refusal('events', device)
  if (refusal) return refuseEvent(core, () => core.wireOf(device), refusal, rawKey, rawOptions)
  const key = core.sanitizer.key(rawKey, 'event key')
  if (key === undefined)
    return refuseEvent(core, () => core.wireOf(device), 'invalid', rawKey, rawOptions, 'invalid event key')
  const options = optionsOf(core, rawOptions, 'event')
  const timestamp = core.clock.timestamp()
  const event: WireEvent = {
    key,
    count: core.sanitizer.count(options.count),
    timestamp,
    hour: core.clock.hourOf(timestamp),
    dow: core.clock.dowOf(timestamp),
  }
  const sum = core.sanitizer.number(options.sum, 'event sum')
  if (sum !== undefined) event.sum = sum
  const dur = extraDurationS ?? core.sanitizer.number(options.dur, 'event dur', 0)
  if (dur !== undefined) event.dur = dur
  const segmentation = core.sanitizer.segmentation(options.segmentation, 'event segmentation')
  if (segmentation) event.segmentation = segmentation
  core.record(device, 'events', event)
}

/** Account for an `event()` call refused before its event was built; the payload keeps what it was given. */
export function refuseEvent(
  core: TelemeterCore,
  wireId: () => string,
  reason: DropReason,
  rawKey: unknown,
  rawOptions: unknown,
  detail?: string,
): void {
  core.refuse('events', reason, 1, detail, () => [
    {
      device_id: wireId(),
      events: [{ ...(typeof rawOptions === 'object' ? rawOptions : {}), key: rawKey }],
    },
  ])
}

export function startEventOf(core: TelemeterCore, device: DeviceState, rawKey: unknown): void {
  const key = core.sanitizer.key(rawKey, 'timed event key')
  if (key === undefined) return
  const timed = (device.timed ??= new Map())
  if (timed.has(key)) {
    core.logger.warnOnce(
      `timed-twice:${key}`,
      `startEvent("${key}") called while it is already running; ignored`,
    )
    return
  }
  if (timed.size >= MAX_TIMED_EVENTS) {
    core.logger.warnOnce(
      'timed-limit',
      `more than ${MAX_TIMED_EVENTS} timed events running; startEvent ignored`,
    )
    return
  }
  timed.set(key, core.clock.timestamp())
}

export function endEventOf(
  core: TelemeterCore,
  device: DeviceState,
  rawKey: unknown,
  rawOptions: unknown,
): void {
  const key = core.sanitizer.key(rawKey, 'timed event key')
  if (key === undefined) return
  const started = device.timed?.get(key)
  if (started === undefined) {
    core.logger.warnOnce(`timed-missing:${key}`, `endEvent("${key}") without startEvent; ignored`)
    return
  }
  device.timed!.delete(key)
  const seconds = Math.max(0, (core.clock.timestamp() - started) / 1000)
  recordEvent(core, device, key, rawOptions, Math.round(seconds * 1000) / 1000)
}

export function cancelEventOf(core: TelemeterCore, device: DeviceState, rawKey: unknown): void {
  const key = core.sanitizer.key(rawKey, 'timed event key')
  if (key === undefined) return
  if (!device.timed?.delete(key)) core.logger.debug(`cancelEvent("${key}"): no such timed event`)
}
