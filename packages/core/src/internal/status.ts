import type { Feature, StatusDecider, TelemeterStatus } from '../types.js'
import type { TelemeterCore } from './client.js'
import { FEATURES } from './policy.js'

const REASONS: Record<StatusDecider, string> = {
  DO_NOT_TRACK: 'DO_NOT_TRACK is set in the environment',
  TELEMETER_DISABLED: 'TELEMETER_DISABLED is set in the environment',
  'config.disabled': 'disabled: true in the configuration',
  operator: 'switched off by the operator (stored choice)',
  server: 'the server-side SDK settings switched tracking off',
  default: 'on by default; no off switch is set',
}

/** The decision and everything behind it, for an admin page or a `status` CLI. */
export function statusOf(core: TelemeterCore): TelemeterStatus {
  const { gate, config } = core
  const killSwitch = gate.killSwitch
  const decidedBy: StatusDecider =
    killSwitch && killSwitch !== 'CI'
      ? killSwitch
      : !gate.serverTracking || !gate.serverNetworking
        ? 'server'
        : 'default'
  const tracking = {} as Record<Feature, boolean>
  // The policy as configured, also while a kill switch keeps everything off.
  for (const feature of FEATURES) tracking[feature] = gate.allowsByPolicy(feature)
  const url = new URL(config.url.href)
  return {
    enabled: decidedBy === 'default',
    decidedBy,
    reason: REASONS[decidedBy],
    tracking,
    consentRequired: gate.requireConsent,
    consent: FEATURES.filter((feature) => gate.hasConsent(feature, core.self)),
    printOnly: config.printPayloads,
    identifiersHashed: config.hashIdentifiers,
    server: `${url.protocol}//${url.host}${url.pathname.replace(/\/$/, '')}`,
    storage: {
      kind: typeof config.storage === 'string' ? config.storage : 'custom',
      durable: core.storageDurable,
    },
    stats: core.stats(),
  }
}
