import { CATEGORIES } from './settings.js'
import type { TelemetryReport } from './telemetry.js'

const SWITCH_ORDER =
  'Off switches, first one set wins: DO_NOT_TRACK=1, TELEMETER_DISABLED=1, disabled in config, ' +
  'the operator switch (POST /admin/telemetry {"enabled": false}); product telemetry is also off when CI is set.'

function duration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`
  if (ms % 60_000 === 0) return `${ms / 60_000} min`
  return `${ms} ms`
}

/** `telemeter.status()` and `instance.status()` as an operator reads them in a terminal. */
export function formatStatus(report: TelemetryReport, note?: string): string {
  const { settings, status, instance } = report
  const rows: [string, string][] = [
    ['decided by', status.decidedBy],
    ['product telemetry', instance.enabled ? 'on' : `off (${instance.reason})`],
    ['destination', `${status.server}  (app key ${settings.appKey})`],
    [
      'user identifiers',
      settings.identifiers === 'hashed' ? 'hashed (salted SHA-256)' : settings.identifiers,
    ],
    ['payloads', status.printOnly ? 'printed, not sent (TELEMETER_DEBUG)' : 'sent'],
    [
      'storage',
      `${status.storage.kind}${status.storage.durable ? ' (survives restarts)' : ' (lost on restart)'}`,
    ],
    [
      'categories',
      CATEGORIES.map((category) => `${category} ${status.tracking[category] ? 'on' : 'OFF'}`).join(', '),
    ],
    [
      'instance id',
      instance.instanceId
        ? `${instance.instanceId}  (up ${instance.uptimeSeconds} s, heartbeat every ${duration(instance.heartbeatIntervalMs)})`
        : 'none (created the first time telemetry may run)',
    ],
    [
      'queue',
      `${status.stats.queued} queued, ${status.stats.sent} sent, ${status.stats.retried} retried, ${status.stats.dropped} dropped`,
    ],
  ]
  const width = Math.max(...rows.map(([label]) => label.length))
  return [
    `Telemetry is ${status.enabled ? 'ON' : 'OFF'}: ${status.reason}`,
    ...(note ? [`(${note})`] : []),
    '',
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`),
    '',
    SWITCH_ORDER,
  ].join('\n')
}
