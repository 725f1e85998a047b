import { TRACKING_SWITCHES, type TrackingPolicy, type TrackingSwitch } from '@telemeter/core'

/** How the app's users are identified in what is sent: not at all, by a salted hash, or by their id. */
export type IdentifierChoice = 'none' | 'hashed' | 'plain'

/** The categories an operator can switch, in the Countly tracking-settings model. */
export const CATEGORIES = TRACKING_SWITCHES
export type Category = TrackingSwitch

/** What the admin settings page edits. */
export interface TelemetrySettings {
  /** Where telemetry goes: the vendor's Countly server... */
  readonly url: string
  /** ...and the app key there. */
  readonly appKey: string
  readonly identifiers: IdentifierChoice
  readonly tracking: Readonly<Record<Category, boolean>>
}

/** A change from the admin endpoint; `enabled` is the operator's global switch. */
export interface SettingsPatch {
  url?: string
  appKey?: string
  identifiers?: IdentifierChoice
  tracking?: TrackingPolicy
  enabled?: boolean
}

export function defaultSettings(url: string, appKey: string): TelemetrySettings {
  return {
    url,
    appKey,
    identifiers: 'hashed',
    tracking: Object.fromEntries(CATEGORIES.map((category) => [category, true])) as Record<Category, boolean>,
  }
}

/** Thrown for a patch the admin endpoint must refuse (answered with 400). */
export class SettingsError extends Error {}

/** Validate an untrusted patch (a request body). */
export function parsePatch(body: unknown): SettingsPatch {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new SettingsError('expected a JSON object')
  const input = body as Record<string, unknown>
  const patch: SettingsPatch = {}
  for (const key of Object.keys(input)) {
    if (!['url', 'appKey', 'identifiers', 'tracking', 'enabled'].includes(key))
      throw new SettingsError(`unknown setting "${key}"`)
  }
  if (input.url !== undefined) {
    if (typeof input.url !== 'string' || !/^https?:\/\/./.test(input.url))
      throw new SettingsError('url must be an http(s) URL')
    patch.url = input.url
  }
  if (input.appKey !== undefined) {
    if (typeof input.appKey !== 'string' || input.appKey.trim() === '')
      throw new SettingsError('appKey must be a non-empty string')
    patch.appKey = input.appKey.trim()
  }
  if (input.identifiers !== undefined) {
    if (input.identifiers !== 'none' && input.identifiers !== 'hashed' && input.identifiers !== 'plain')
      throw new SettingsError('identifiers must be "none", "hashed" or "plain"')
    patch.identifiers = input.identifiers
  }
  if (input.tracking !== undefined) {
    const tracking = input.tracking
    if (tracking === null || typeof tracking !== 'object' || Array.isArray(tracking))
      throw new SettingsError('tracking must be an object of category -> boolean')
    for (const [category, on] of Object.entries(tracking)) {
      if (!(CATEGORIES as readonly string[]).includes(category))
        throw new SettingsError(`unknown category "${category}"`)
      if (typeof on !== 'boolean') throw new SettingsError(`tracking.${category} must be true or false`)
    }
    patch.tracking = tracking as TrackingPolicy
  }
  if (input.enabled !== undefined) {
    if (typeof input.enabled !== 'boolean') throw new SettingsError('enabled must be true or false')
    patch.enabled = input.enabled
  }
  return patch
}

/** Settings as the admin page shows them: the app key is a secret of sorts, only its end is shown. */
export function publicSettings(
  settings: TelemetrySettings,
): Omit<TelemetrySettings, 'appKey'> & { appKey: string } {
  return { ...settings, appKey: `…${settings.appKey.slice(-4)}` }
}
