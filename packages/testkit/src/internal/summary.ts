import type { ReceivedEvent, StoredUser, TestServer } from '../types.js'

const OWN_SECTION_EVENTS = new Set([
  '[CLY]_session',
  '[CLY]_session_begin',
  '[CLY]_crash',
  '[CLY]_consent',
  '[CLY]_apm_network',
  '[CLY]_apm_device',
])
const LIST_LIMIT = 20
const PROFILE_KEYS = ['name', 'username', 'email', 'organization', 'phone', 'gender', 'byear'] as const

/**
 * A readable multi-line summary of what the server received: HTTP requests by
 * endpoint and status, processed items, devices, sessions with durations,
 * events by key with counts and sums, crashes, traces by name with mean
 * timings, user properties, consent changes and violations. Plain text,
 * aligned, no colours.
 *
 * @param server - a server from `startTestServer`
 * @returns the summary, lines joined with `\n`
 * @example
 * process.on('SIGINT', () => {
 *   console.log(summarize(server))
 *   process.exit(0)
 * })
 */
export function summarize(server: TestServer): string {
  const lines: string[] = [`Telemeter test server  ${server.url}`, '-'.repeat(60)]
  const requests = server.requests
  const items = server.items
  lines.push(row('HTTP requests', requests.length, tally(requests.map((r) => r.endpoint))))
  const statuses = tally(requests.map((r) => (r.status === undefined ? 'no answer' : String(r.status))))
  if (requests.length > 0) lines.push(row('', '', `status ${statuses}`))
  lines.push(row('Items', items.length, tally(items.map((i) => i.outcome))))
  const rejected = items.filter((i) => i.reason !== undefined)
  if (rejected.length > 0) lines.push(row('', '', `reasons ${tally(rejected.map((i) => i.reason ?? ''))}`))
  const users = server.users()
  lines.push(row('Devices', users.length, listed(users.map((u) => u.did))))
  lines.push(row('Connections', server.connections, ''))

  const events = server.events()
  const ends = events.filter((e) => e.key === '[CLY]_session')
  const total = ends.reduce((sum, e) => sum + (e.dur ?? 0), 0)
  const open = users.filter((u) => u.hos).length
  const durations = ends.length > 0 ? `, duration total ${total} s, mean ${round(total / ends.length)} s` : ''
  lines.push(
    row(
      'Sessions',
      '',
      `begun ${events.filter((e) => e.key === '[CLY]_session_begin').length}, ended ${ends.length}, open ${open}${durations}`,
    ),
  )

  const custom = events.filter((e) => !OWN_SECTION_EVENTS.has(e.key))
  lines.push(row('Events', custom.length, ''))
  lines.push(
    ...table(
      groupBy(custom, (e) => e.key),
      (key, group) => [key, `x${countOf(group)}`, sumText(group)],
    ),
  )

  const crashes = server.crashes()
  lines.push(row('Crashes', crashes.length, ''))
  lines.push(
    ...table(
      groupBy(crashes, (c) => `${c.name}\u0000${c.nonfatal}`),
      (key, group) => [
        key.split('\u0000')[0] ?? key,
        `x${group.length}`,
        group[0]?.nonfatal ? 'nonfatal' : 'fatal',
        listed([...new Set(group.map((c) => c.device_id))], 3),
      ],
    ),
  )

  const traces = server.traces()
  lines.push(row('Traces', traces.length, ''))
  lines.push(
    ...table(
      groupBy(traces, (t) => `${t.type} ${t.name}`),
      (key, group) => {
        const metric = group[0]?.type === 'network' ? 'response_time' : 'duration'
        const values = group.map((t) => t.metrics[metric]).filter((v): v is number => v !== undefined)
        const mean =
          values.length > 0
            ? `mean ${metric} ${round(values.reduce((a, b) => a + b, 0) / values.length)} ms`
            : ''
        return [key, `x${group.length}`, mean]
      },
    ),
  )

  const profiles = users.map((u) => [u.did, profileText(u)] as const).filter(([, text]) => text !== '')
  lines.push(row('User properties', profiles.length, ''))
  lines.push(
    ...table(new Map(profiles.map(([did, text]) => [did, [text]])), (did, [text]) => [did, text ?? '']),
  )

  const consent = events.filter((e) => e.key === '[CLY]_consent')
  lines.push(row('Consent changes', consent.length, ''))
  lines.push(
    ...table(
      groupBy(consent, (e) => e.device_id),
      (did, group) => [did, group.map((e) => consentText(e)).join('; ')],
    ),
  )

  const violations = server.violations
  lines.push(
    row('Violations', violations.length, violations.length > 0 ? tally(violations.map((v) => v.code)) : ''),
  )
  for (const violation of violations.slice(0, LIST_LIMIT)) {
    const who = violation.deviceId === undefined ? '' : ` [${violation.deviceId}]`
    lines.push(`  ${violation.code}${who} ${violation.endpoint}: ${violation.message}`)
  }
  if (violations.length > LIST_LIMIT) lines.push(`  ... and ${violations.length - LIST_LIMIT} more`)
  return lines.join('\n')
}

function row(label: string, count: number | string, detail: string): string {
  return `${label.padEnd(16)}${String(count).padStart(5)}    ${detail}`.trimEnd()
}

function tally(values: readonly string[]): string {
  const counts = new Map<string, number>()
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1)
  return [...counts].map(([value, count]) => `${value} x${count}`).join(', ')
}

function listed(values: readonly string[], limit = 10): string {
  const shown = values.slice(0, limit).join(', ')
  return values.length > limit ? `${shown}, ... and ${values.length - limit} more` : shown
}

function groupBy<T>(values: readonly T[], keyOf: (value: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const value of values) {
    const key = keyOf(value)
    const group = groups.get(key)
    if (group) group.push(value)
    else groups.set(key, [value])
  }
  return groups
}

/** Indented rows with every column padded to its widest cell. */
function table<T>(groups: Map<string, T[]>, cells: (key: string, group: T[]) => string[]): string[] {
  const rows = [...groups].slice(0, LIST_LIMIT).map(([key, group]) => cells(key, group))
  const widths: number[] = []
  for (const cellsOfRow of rows) {
    cellsOfRow.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length)
    })
  }
  // First column left-aligned, the count right-aligned, the rest left-aligned; the last one unpadded.
  const pad = (cell: string, i: number, last: boolean) => {
    const width = widths[i] ?? 0
    if (i === 1) return cell.padStart(width)
    return last ? cell : cell.padEnd(width)
  }
  const lines = rows.map((cellsOfRow) =>
    `  ${cellsOfRow.map((cell, i) => pad(cell, i, i === cellsOfRow.length - 1)).join('   ')}`.trimEnd(),
  )
  if (groups.size > LIST_LIMIT) lines.push(`  ... and ${groups.size - LIST_LIMIT} more`)
  return lines
}

function countOf(events: readonly ReceivedEvent[]): number {
  return events.reduce((sum, e) => sum + e.count, 0)
}

function sumText(events: readonly ReceivedEvent[]): string {
  const sums = events.map((e) => e.sum).filter((s): s is number => s !== undefined)
  return sums.length > 0 ? `sum ${round(sums.reduce((a, b) => a + b, 0))}` : ''
}

function profileText(user: StoredUser): string {
  const parts: string[] = []
  for (const key of PROFILE_KEYS) {
    const value = user[key]
    if (value !== undefined) parts.push(`${key}=${String(value)}`)
  }
  const custom = Object.entries(user.custom).map(([key, value]) => `${key}=${JSON.stringify(value)}`)
  if (custom.length > 0) parts.push(`custom {${custom.join(', ')}}`)
  return parts.join(' ')
}

function consentText(event: ReceivedEvent): string {
  return Object.entries(event.segmentation)
    .filter(([key]) => !key.endsWith('_bf') && key !== '_type')
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(' ')
}

function round(value: number): number {
  return Math.round(value * 100) / 100
}
