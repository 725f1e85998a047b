import { KNOWN_OS_NAMES } from './constants.js'
import type { ItemContext } from './context.js'
import { describe, type JsonObject } from './values.js'

/**
 * `metrics` (PROTOCOL §2.5). Values must be non-empty scalars to count. An
 * `_os` outside `common.os_mapping` gets a `[<os>]` prefix on its version in
 * every report, so it is reported too. `/o/sdk` processes but does not store.
 */
export function processMetrics(ctx: ItemContext, metrics: JsonObject | undefined, store: boolean): void {
  if (!metrics) return
  for (const [key, value] of Object.entries(metrics)) {
    if (value === undefined || value === null || value === '') {
      ctx.violate('invalid-metric', `metric ${key} is empty; the server ignores it`)
      continue
    }
    if (typeof value === 'object') {
      ctx.violate(
        'invalid-metric',
        `metric ${key} must be a string, got ${describe(value)}; the server ignores it`,
      )
      continue
    }
    const text = String(value)
    if (key === '_os' && !KNOWN_OS_NAMES.has(text.toLowerCase())) {
      ctx.violate(
        'invalid-metric',
        `_os ${describe(text)} is not a Countly OS name (e.g. Linux, macOS, Windows); versions get a "[${text}]" prefix`,
      )
    }
    if (store) ctx.user.doc.metrics[key] = text
  }
}
