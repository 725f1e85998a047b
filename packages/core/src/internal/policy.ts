import type { DropReason, Feature, TrackingPolicy } from '../types.js'
import { envFlag } from './config.js'
import type { DeviceState } from './devices.js'

/** Which off switch decided, in the documented order of precedence. */
export type KillSwitch = 'DO_NOT_TRACK' | 'TELEMETER_DISABLED' | 'config.disabled'

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
 * Decides whether a feature may record right now: kill switches first, then
 * the operator policy, then consent (when required). Kept as plain fields so
 * the per-event check is a few property reads.
 */
export class Gate {
  killSwitch: KillSwitch | undefined
  private readonly tracking: Record<string, boolean> = {}

  constructor(
    killSwitch: KillSwitch | undefined,
    tracking: TrackingPolicy,
    private readonly requireConsent: boolean,
  ) {
    this.killSwitch = killSwitch
    this.setTracking(tracking)
  }

  /** Why `feature` may not record for `device`, or undefined when it may. */
  refusal(feature: Feature | 'internal', device?: DeviceState): DropReason | undefined {
    if (this.killSwitch) return 'disabled'
    if (feature === 'internal') return undefined
    if (this.tracking[feature] === false) return 'policy'
    if (this.requireConsent && !device?.consent?.has(feature)) return 'consent'
    return undefined
  }

  setTracking(policy: TrackingPolicy): void {
    for (const [feature, on] of Object.entries(policy)) {
      if (typeof on === 'boolean') this.tracking[feature] = on
    }
  }

  tracks(feature: Feature): boolean {
    return this.tracking[feature] !== false
  }

  hasConsent(feature: Feature, device: DeviceState): boolean {
    return !this.requireConsent || device.consent?.has(feature) === true
  }
}
