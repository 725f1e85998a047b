import type { TrackingPolicy } from '../types.js'
import type { TelemeterCore } from './client.js'
import { describe } from './config.js'
import { beginSessionOf } from './session.js'

/**
 * `setTracking`: merge a partial operator policy at run time. Features
 * switched off lose their queued, unsent data at once; an automatic session
 * switched back on begins again.
 */
export function setTrackingOf(core: TelemeterCore, policy: unknown): void {
  if (policy === null || typeof policy !== 'object' || Array.isArray(policy)) {
    core.logger.warnOnce(
      'setTracking',
      `setTracking needs an object of feature -> boolean, got ${describe(policy)}`,
    )
    return
  }
  const sessionsWereOn = core.gate.refusal('sessions', core.self) !== 'policy'
  const switchedOff = core.gate.setTracking(policy as TrackingPolicy)
  for (const feature of switchedOff) {
    if (feature === 'sessions') {
      core.self.sessionActive = false
      for (const device of core.devices.values()) device.sessionActive = false
    }
    core.purge(feature, 'policy')
  }
  const sessionsOn = core.gate.refusal('sessions', core.self) !== 'policy'
  if (!sessionsWereOn && sessionsOn && core.autoSession && !core.self.sessionActive)
    beginSessionOf(core, core.self)
}
