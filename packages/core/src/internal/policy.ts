import type { DropReason, Feature, TrackingPolicy, TrackingSwitch } from '../types.js'
import { envFlag } from './config.js'
import type { DeviceState } from './devices.js'

/** Which off switch decided, in the documented order of precedence. */
export type KillSwitch = 'DO_NOT_TRACK' | 'TELEMETER_DISABLED' | 'config.disabled' | 'operator' | 'CI'

/** Every feature consent and policy know, in the Countly SDKs' names. */
export const FEATURES: readonly Feature[] = Object.freeze([
  'sessions',
  'events',
  'views',
  'crashes',
  'apm',
  'users',
  'location',
  'feedback',
  'star-rating',
  'remote-config',
  'attribution',
])

/**
 * The operator policy's switches, in the order an admin page lists them.
 * @default every switch is on
 * @example
 * ```ts
 * for (const name of TRACKING_SWITCHES) renderToggle(name, telemeter.status().tracking[name])
 * ```
 */
export const TRACKING_SWITCHES: readonly TrackingSwitch[] = Object.freeze([
  'sessions',
  'events',
  'views',
  'crashes',
  'apm',
  'users',
  'location',
  'feedback',
  'remote-config',
])

const FEATURE_SET: ReadonlySet<string> = new Set(FEATURES)

export function isFeature(value: unknown): value is Feature {
  return typeof value === 'string' && FEATURE_SET.has(value)
}

/** Star ratings are feedback as far as the operator policy goes (it has no separate switch). */
function policyKey(feature: Feature): Feature {
  return feature === 'star-rating' ? 'feedback' : feature
}

/**
 * The first kill switch that is on, in the documented order:
 * `DO_NOT_TRACK`, then `TELEMETER_DISABLED`, then `disabled` in config.
 */
export function activeKillSwitch(configDisabled: boolean): KillSwitch | undefined {
  if (envFlag('DO_NOT_TRACK')) return 'DO_NOT_TRACK'
  if (envFlag('TELEMETER_DISABLED')) return 'TELEMETER_DISABLED'
  if (configDisabled) return 'config.disabled'
  return undefined
}

/**
 * Decides whether a feature may record right now. Order: kill switches, the
 * server's master `tracking` switch, the operator policy together with the
 * server's per-feature switches (both must allow), then consent (when
 * required). Plain fields, so the per-event check is a few property reads.
 */
export class Gate {
  killSwitch: KillSwitch | undefined
  /** Server-side SDK settings (`method=sc`): master switches. */
  serverTracking = true
  serverNetworking = true
  /**
   * The instance's own consent is read from storage at start. Until then its
   * data is let through and checked again once the stored consent is known
   * (`restoreConsent`), so what is recorded at start-up is not refused for
   * want of consent that was in fact given in an earlier run.
   */
  ownConsentKnown = false
  private readonly tracking: Record<string, boolean> = {}
  private readonly serverFeatures: Record<string, boolean> = {}

  constructor(
    killSwitch: KillSwitch | undefined,
    tracking: TrackingPolicy,
    public requireConsent: boolean,
  ) {
    this.killSwitch = killSwitch
    this.setTracking(tracking)
  }

  /** Why `feature` may not record for `device`, or undefined when it may. */
  refusal(feature: Feature | 'internal', device?: DeviceState): DropReason | undefined {
    if (this.killSwitch) return 'disabled'
    if (device?.refused) return 'invalid'
    if (feature === 'internal') return undefined
    if (!this.serverTracking) return 'policy'
    const key = policyKey(feature)
    if (this.tracking[key] === false || this.serverFeatures[key] === false) return 'policy'
    if (this.requireConsent && !device?.consent?.has(feature) && (this.ownConsentKnown || !device?.pinned))
      return 'consent'
    return undefined
  }

  /** Merge a partial policy; returns the features it switched off. */
  setTracking(policy: TrackingPolicy): Feature[] {
    const switchedOff: Feature[] = []
    for (const [feature, on] of Object.entries(policy ?? {})) {
      if (!isFeature(feature) || typeof on !== 'boolean') continue
      // `star-rating` and `feedback` are one switch: queued data of both goes when it is switched off.
      const key = policyKey(feature)
      if (!on && this.tracking[key] !== false)
        switchedOff.push(...(key === 'feedback' ? (['feedback', 'star-rating'] as const) : [key]))
      this.tracking[key] = on
    }
    return switchedOff
  }

  setServerFeature(feature: Feature, on: boolean | undefined): void {
    if (on === undefined) delete this.serverFeatures[feature]
    else this.serverFeatures[feature] = on
  }

  /** Whether the operator policy and the server's switches let `feature` run (kill switches and consent aside). */
  allowsByPolicy(feature: Feature): boolean {
    const key = policyKey(feature)
    return this.serverTracking && this.tracking[key] !== false && this.serverFeatures[key] !== false
  }

  /** The operator policy as set (every feature, true unless switched off). */
  trackingPolicy(): Required<TrackingPolicy> {
    const policy = {} as Required<TrackingPolicy>
    for (const feature of FEATURES) policy[feature] = this.tracking[policyKey(feature)] !== false
    return policy
  }

  hasConsent(feature: Feature, device: DeviceState): boolean {
    return !this.requireConsent || device.consent?.has(feature) === true
  }
}
