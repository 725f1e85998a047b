import type { Feature } from '../types.js'
import type { TelemeterCore } from './client.js'
import { describe } from './config.js'
import type { DeviceState } from './devices.js'
import { FEATURES, isFeature } from './policy.js'
import { clearRemoteConfig, REMOTE_CONFIG_KEY } from './remote-config.js'
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

/**
 * Consent calls for the instance's own device made before storage opened:
 * its stored consent is not known yet, so they are replayed on top of it by
 * `restoreConsent` and only the real changes are sent.
 */
const earlyCalls = new WeakMap<TelemeterCore, { given: boolean; features: Feature[] }[]>()

/** The own device's stored consent has not been read yet (storage still opening). */
function early(core: TelemeterCore, device: DeviceState): boolean {
  return device === core.self && !core.gate.ownConsentKnown
}

function remember(core: TelemeterCore, given: boolean, features: Feature[]): void {
  const calls = earlyCalls.get(core) ?? []
  calls.push({ given, features })
  earlyCalls.set(core, calls)
}

/**
 * Load the instance device's consent saved by a previous run, apply the
 * consent calls made while storage was opening on top of it, and send and
 * store what changed. Called once storage is open, before the core checks
 * again what was recorded meanwhile.
 */
export function restoreConsent(core: TelemeterCore): void {
  const self = core.self
  const stored = new Set<Feature>()
  const saved = core.values[CONSENT_KEY]
  if (saved) {
    try {
      for (const feature of JSON.parse(saved) as unknown[]) if (isFeature(feature)) stored.add(feature)
    } catch {
      core.logger.warn('stored consent was unreadable and is reset')
    }
  }
  const consent = new Set(stored)
  for (const call of earlyCalls.get(core) ?? []) {
    for (const feature of call.features) {
      if (call.given) consent.add(feature)
      else consent.delete(feature)
    }
  }
  earlyCalls.delete(core)
  self.consent = consent
  core.gate.ownConsentKnown = true
  if (!core.gate.requireConsent) return
  // What was recorded meanwhile is checked again by the core (regateEarly); queued data of removed features goes here.
  const given = [...consent].filter((feature) => !stored.has(feature))
  const removed = [...stored].filter((feature) => !consent.has(feature))
  for (const feature of removed) core.purge(feature, 'consent', self)
  if (removed.includes('remote-config')) core.setValue(REMOTE_CONFIG_KEY, null)
  if (given.length > 0) consentRequest(core, self, given, true)
  if (removed.length > 0) consentRequest(core, self, removed, false)
  if (given.length > 0 || removed.length > 0) persistIfOwn(core, self)
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
  const named = expandFeatures(core, names)
  const beforeStorage = early(core, device)
  if (beforeStorage) remember(core, true, named)
  const features = named.filter((feature) => !device.consent?.has(feature))
  if (features.length === 0) return
  const consent = (device.consent ??= new Set())
  for (const feature of features) consent.add(feature)
  // The request and the stored value wait for restoreConsent; the automatic session begins at ready.
  if (beforeStorage) return
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
  const named = expandFeatures(core, names)
  const beforeStorage = early(core, device)
  if (beforeStorage) remember(core, false, named)
  const features = beforeStorage ? named : named.filter((feature) => device.consent?.has(feature))
  if (features.length === 0) return
  // Unsent data of the features goes first; then the session ends while it may still say so.
  for (const feature of features) core.purge(feature, 'consent', device)
  if (features.includes('sessions') && device.sessionActive) endSessionOf(core, device)
  for (const feature of features) device.consent?.delete(feature)
  if (features.includes('crashes')) device.breadcrumbs = undefined
  if (features.includes('remote-config')) clearRemoteConfig(core, device)
  // The server forgets the location with the opt-out on the next begin_session (PROTOCOL §2.7).
  if (features.includes('location')) device.location = undefined
  if (beforeStorage) return
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
