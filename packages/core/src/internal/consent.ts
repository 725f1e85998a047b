import type { Feature } from '../types.js'
import type { TelemeterCore } from './client.js'
import { describe } from './config.js'
import type { DeviceState } from './devices.js'
import { FEATURES, isFeature } from './policy.js'
import { clearRemoteConfig } from './remote-config.js'
import { beginSessionOf, endSessionOf } from './session.js'

export const CONSENT_KEY = 'consent'

/** Expand feature names and group names (`groupFeatures`) into features, warning about unknown names. */
export function expandFeatures(core: TelemeterCore, names: readonly unknown[]): Feature[] {
  const result = new Set<Feature>()
  for (const name of names.flat()) {
    if (isFeature(name)) result.add(name)
    else if (typeof name === 'string' && core.consentGroups.has(name)) {
      for (const feature of core.consentGroups.get(name)!) result.add(feature)
    } else {
      core.logger.warnOnce(
        `consent:unknown:${String(name)}`,
        `unknown consent feature ${describe(name)}; known: ${FEATURES.join(', ')} and groups from groupFeatures()`,
      )
    }
  }
  return [...result]
}

export function groupFeaturesOf(core: TelemeterCore, groups: unknown): void {
  if (groups === null || typeof groups !== 'object' || Array.isArray(groups)) {
    core.logger.warnOnce(
      'groupFeatures',
      `groupFeatures needs an object of group -> features, got ${describe(groups)}`,
    )
    return
  }
  for (const [group, features] of Object.entries(groups)) {
    if (isFeature(group)) {
      core.logger.warnOnce(`group:${group}`, `group name "${group}" is a feature name; ignored`)
      continue
    }
    const list = Array.isArray(features) ? features.filter(isFeature) : []
    if (list.length === 0) {
      core.logger.warnOnce(`group-empty:${group}`, `group "${group}" lists no known feature; ignored`)
      continue
    }
    core.consentGroups.set(group, list)
  }
}

function persistIfOwn(core: TelemeterCore, device: DeviceState): void {
  if (device === core.self) core.setValue(CONSENT_KEY, JSON.stringify([...(device.consent ?? [])]))
}

/** Load the instance device's consent saved by a previous run. */
export function restoreConsent(core: TelemeterCore): void {
  const saved = core.values[CONSENT_KEY]
  if (!saved) return
  try {
    const list = (JSON.parse(saved) as unknown[]).filter(isFeature)
    core.self.consent = new Set(list)
  } catch {
    core.logger.warn('stored consent was unreadable and is reset')
  }
}

function consentRequest(
  core: TelemeterCore,
  device: DeviceState,
  features: readonly Feature[],
  given: boolean,
): void {
  core.enqueue(device, 'internal', { consent: Object.fromEntries(features.map((f) => [f, given])) }, 0)
}

export function giveConsentOf(core: TelemeterCore, device: DeviceState, names: readonly unknown[]): void {
  if (!core.gate.requireConsent) {
    core.logger.debug('giveConsent: consent is not required (requireConsent: false); nothing to do')
    return
  }
  const features = expandFeatures(core, names).filter((feature) => !device.consent?.has(feature))
  if (features.length === 0) return
  const consent = (device.consent ??= new Set())
  for (const feature of features) consent.add(feature)
  consentRequest(core, device, features, true)
  persistIfOwn(core, device)
  if (
    features.includes('sessions') &&
    device === core.self &&
    core.config.sessions === 'auto' &&
    !device.sessionActive
  ) {
    beginSessionOf(core, device)
  }
}

export function removeConsentOf(core: TelemeterCore, device: DeviceState, names: readonly unknown[]): void {
  if (!core.gate.requireConsent) {
    core.logger.debug('removeConsent: consent is not required (requireConsent: false); nothing to do')
    return
  }
  const features = expandFeatures(core, names).filter((feature) => device.consent?.has(feature))
  if (features.length === 0) return
  // End what the features were doing while they are still allowed to say so.
  if (features.includes('sessions') && device.sessionActive) endSessionOf(core, device)
  for (const feature of features) device.consent!.delete(feature)
  for (const feature of features) core.purge(feature, 'consent', device)
  if (features.includes('crashes')) device.breadcrumbs = undefined
  if (features.includes('remote-config')) clearRemoteConfig(core, device)
  if (features.includes('location')) {
    device.location = undefined
    core.enqueue(device, 'internal', { location: '' }, 0)
  }
  consentRequest(core, device, features, false)
  persistIfOwn(core, device)
}

export function hasConsentOf(core: TelemeterCore, device: DeviceState, name: unknown): boolean {
  if (!isFeature(name)) {
    if (typeof name === 'string' && core.consentGroups.has(name)) {
      return core.consentGroups.get(name)!.every((feature) => core.gate.hasConsent(feature, device))
    }
    return false
  }
  return core.gate.hasConsent(name, device)
}
