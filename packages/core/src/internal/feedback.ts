import type { RatingOptions } from '../types.js'
import type { TelemeterCore } from './client.js'
import { describe } from './config.js'
import type { DeviceState } from './devices.js'
import { osName } from './environment.js'
import { outgoingEmail } from './identifiers.js'

export const STAR_RATING_EVENT = '[CLY]_star_rating'

/** `recordRating` → a `[CLY]_star_rating` event (PROTOCOL §2.15). */
export function recordRatingOf(core: TelemeterCore, device: DeviceState, input: unknown): void {
  const refusal = core.gate.refusal('star-rating', device)
  if (refusal) return core.refuse('star-rating', refusal, 1)
  if (input === null || typeof input !== 'object') {
    core.logger.warnOnce('rating:type', `recordRating needs an object, got ${describe(input)}; dropped`)
    return core.refuse('star-rating', 'invalid', 1)
  }
  const { rating, comment, email, contactMe, widgetId } = input as RatingOptions
  if (typeof rating !== 'number' || !Number.isInteger(rating) || rating < 1 || rating > 5) {
    core.logger.warnOnce(
      'rating:value',
      `rating must be an integer from 1 to 5, got ${describe(rating)}; dropped`,
    )
    return core.refuse('star-rating', 'invalid', 1)
  }
  const { valueSize } = core.settings.limits
  const segmentation: Record<string, unknown> = { platform: osName(), app_version: core.appVersion, rating }
  if (typeof widgetId === 'string' && widgetId)
    segmentation.widget_id = core.sanitizer.string(widgetId, valueSize, 'widgetId')
  if (typeof comment === 'string' && comment)
    segmentation.comment = core.sanitizer.string(comment, valueSize * 4, 'comment')
  if (typeof email === 'string' && email)
    segmentation.email = outgoingEmail(core, core.sanitizer.string(email, valueSize, 'email'))
  if (typeof contactMe === 'boolean') segmentation.contactMe = contactMe
  const timestamp = core.clock.timestamp()
  core.record(device, 'star-rating', {
    key: STAR_RATING_EVENT,
    count: 1,
    segmentation,
    timestamp,
    hour: core.clock.hourOf(timestamp),
    dow: core.clock.dowOf(timestamp),
  })
}
