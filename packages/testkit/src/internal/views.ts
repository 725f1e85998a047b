import type { ReceivedEvent } from '../types.js'
import type { ItemContext } from './context.js'
import { describe, isNumeric, isTruthyParam } from './values.js'

/**
 * `[CLY]_view` (PROTOCOL §2.14): `segmentation.name` is required and becomes
 * the event name; `segmentation.dur` moves to the event; durations with 10 or
 * more digits (timestamps sent as durations) are zeroed. `visit=1` counts a
 * view on the user (`vc`, `lv`).
 */
export function processView(ctx: ItemContext, event: ReceivedEvent): ReceivedEvent | undefined {
  const segmentation = event.segmentation
  const name = segmentation.name
  if (name === undefined || name === null || name === '') {
    ctx.violate('invalid-view', '[CLY]_view without segmentation.name is dropped')
    return undefined
  }
  let dur = event.dur
  if (segmentation.dur !== undefined) {
    if (dur === undefined && isNumeric(segmentation.dur)) dur = Number(segmentation.dur)
    delete segmentation.dur
  }
  if (dur !== undefined) {
    dur = Math.round(dur)
    if (String(Math.abs(dur)).length >= 10) {
      ctx.violate(
        'invalid-view',
        `view "${String(name)}" duration ${describe(dur)} looks like a timestamp; zeroed`,
      )
      dur = 0
    }
  }
  if (isTruthyParam(segmentation.visit)) {
    ctx.user.doc.vc += 1
    ctx.user.doc.lv = String(name)
  }
  return { ...event, name: String(name), dur }
}
