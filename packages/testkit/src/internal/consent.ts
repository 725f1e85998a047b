import { type ItemContext, makeEvent } from './context.js'
import { describe, isSafeKey, type JsonObject, safeAssign } from './values.js'

/**
 * `consent` (PROTOCOL §2.10): every key whose value differs from the stored
 * one is saved, and one `[CLY]_consent` event lists the changes (`<key>`:
 * "true"/"false"), the previous values (`<key>_bf`, also for every key known
 * before) and `_type` ("i", "o" or ["i","o"]). Nothing changed, no event.
 */
export function processConsent(ctx: ItemContext, consent: JsonObject | undefined): void {
  if (!consent) return
  const before = ctx.user.doc.consent
  const changes: Record<string, boolean> = {}
  for (const [feature, raw] of Object.entries(consent)) {
    if (!isSafeKey(feature)) {
      ctx.violate('invalid-consent', `consent key "${feature}" is refused`)
      continue
    }
    if (typeof raw !== 'boolean') {
      ctx.violate(
        'invalid-consent',
        `consent "${feature}" must be a boolean, got ${describe(raw)}; the server reads it as ${Boolean(raw)}`,
      )
    }
    const value = Boolean(raw)
    if (before[feature] !== value) changes[feature] = value
  }
  const changed = Object.keys(changes)
  if (changed.length === 0) return
  const segmentation: JsonObject = {}
  for (const [feature, value] of Object.entries(before)) safeAssign(segmentation, `${feature}_bf`, value)
  for (const feature of changed) {
    if (!(feature in before)) safeAssign(segmentation, `${feature}_bf`, null)
    safeAssign(segmentation, feature, String(changes[feature]))
  }
  const types = new Set(Object.values(changes).map((value) => (value ? 'i' : 'o')))
  segmentation._type = types.size === 2 ? ['i', 'o'] : [...types][0]
  ctx.user.doc.consent = { ...before, ...changes }
  ctx.events.push(makeEvent(ctx, { key: '[CLY]_consent', segmentation }))
}
