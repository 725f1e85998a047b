import type { ReceivedEvent } from '../types.js'
import type { ItemContext } from './context.js'
import { describe, isNumeric } from './values.js'

/**
 * `[CLY]_star_rating` (PROTOCOL §2.15): the server fills `ratingSum` and
 * `platform_version_rate`, defaults missing parts to "undefined", and names
 * the event after its widget.
 */
export function processRating(ctx: ItemContext, event: ReceivedEvent): ReceivedEvent {
  const segmentation = { ...event.segmentation }
  const rating = segmentation.rating
  const valid =
    isNumeric(rating) && Number.isInteger(Number(rating)) && Number(rating) >= 1 && Number(rating) <= 5
  if (!valid) ctx.violate('invalid-rating', `[CLY]_star_rating rating must be 1-5, got ${describe(rating)}`)
  const part = (value: unknown) => (value === undefined ? 'undefined' : String(value))
  segmentation.platform_version_rate = [
    part(segmentation.platform),
    part(segmentation.app_version),
    part(rating),
    part(segmentation.widget_id),
  ].join('**')
  if (isNumeric(rating)) segmentation.ratingSum = Number(rating)
  const name = segmentation.widget_id === undefined ? event.name : String(segmentation.widget_id)
  return { ...event, name, segmentation }
}
