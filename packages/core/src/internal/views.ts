import type { TelemeterCore } from './client.js'
import type { DeviceState } from './devices.js'
import { osName } from './environment.js'

export const VIEW_EVENT = '[CLY]_view'
/** Segmentation keys the views plugin gives meaning to (PROTOCOL §2.14); the host cannot set them. */
const RESERVED_VIEW_KEYS: ReadonlySet<string> = new Set([
  'name',
  'visit',
  'start',
  'bounce',
  'exit',
  'view',
  'domain',
  'dur',
  'segment',
])

function viewEvent(core: TelemeterCore, segmentation: Record<string, unknown>, dur?: number): object {
  const timestamp = core.clock.timestamp()
  const event: Record<string, unknown> = {
    key: VIEW_EVENT,
    count: 1,
    segmentation,
    timestamp,
    hour: core.clock.hourOf(timestamp),
    dow: core.clock.dowOf(timestamp),
  }
  if (dur !== undefined) event.dur = dur
  return event
}

/** Report how long the current view lasted (a non-visit view event), then forget it. */
export function closeViewOf(core: TelemeterCore, device: DeviceState): void {
  const view = device.view
  if (!view) return
  device.view = undefined
  if (core.gate.refusal('views', device)) return
  const seconds = Math.max(0, Math.round((core.clock.timestamp() - view.startedAt) / 1000))
  core.record(device, 'views', viewEvent(core, { name: view.name, segment: osName() }, seconds))
}

export function viewOf(
  core: TelemeterCore,
  device: DeviceState,
  rawName: unknown,
  rawSegmentation: unknown,
): void {
  const refusal = core.gate.refusal('views', device)
  if (refusal) return core.refuse('views', refusal, 1)
  const name = core.sanitizer.key(rawName, 'view name')
  if (name === undefined) return core.refuse('views', 'invalid', 1, 'invalid view name')
  closeViewOf(core, device)
  const custom = core.sanitizer.segmentation(rawSegmentation, 'view segmentation', RESERVED_VIEW_KEYS)
  const segmentation: Record<string, unknown> = { ...custom, name, visit: 1, segment: osName() }
  if (device.viewsInSession === 0) segmentation.start = 1
  device.viewsInSession++
  device.view = { name, startedAt: core.clock.timestamp() }
  core.record(device, 'views', viewEvent(core, segmentation))
}
