import type { PrintLiveOptions, ReceivedEvent, TestServer } from '../types.js'
import type { Activity } from './state.js'
import { stateOf } from './test-server.js'
import { describe } from './values.js'

const INDENT = ' '.repeat(15)

/**
 * Print what the server receives as it arrives: one line per HTTP request,
 * processed `/i` item, stored event, crash, trace and violation (or one JSON
 * object per line). This is what `telemeter-inspect` shows.
 *
 * @param server - a server from `startTestServer`
 * @param options - where to write (default stdout) and whether to print JSON lines
 * @returns a function that stops printing
 * @example
 * const server = await startTestServer({ port: 3030 })
 * const stop = printLive(server)
 * // … run the demo against server.url …
 * stop()
 */
export function printLive(server: TestServer, options: PrintLiveOptions = {}): () => void {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`))
  const format = options.json ? formatJson : formatText
  const listener = (activity: Activity) => {
    const line = format(activity)
    if (line !== undefined) write(line)
  }
  const state = stateOf(server)
  state.listeners.add(listener)
  return () => {
    state.listeners.delete(listener)
  }
}

function formatJson(activity: Activity): string | undefined {
  switch (activity.kind) {
    case 'request': {
      const { method, endpoint, path, rawQuery, receivedAt } = activity.request
      return JSON.stringify({ kind: 'request', method, endpoint, path, query: rawQuery, receivedAt })
    }
    case 'response': {
      const { method, endpoint, status, responseBody, fault } = activity.request
      return JSON.stringify({ kind: 'response', method, endpoint, status, body: responseBody, fault })
    }
    case 'item':
      return JSON.stringify({ kind: 'item', ...activity.item })
    case 'event':
      return JSON.stringify({ kind: 'event', ...activity.event })
    case 'crash':
      return JSON.stringify({ kind: 'crash', ...activity.crash })
    case 'trace':
      return JSON.stringify({ kind: 'trace', ...activity.trace })
    case 'violation':
      return JSON.stringify({ kind: 'violation', ...activity.violation })
  }
}

function formatText(activity: Activity): string | undefined {
  switch (activity.kind) {
    case 'request': {
      const r = activity.request
      const size = r.body.length > 0 ? `  ${r.body.length} B` : ''
      return `${clock(r.receivedAt)}  ${r.method.padEnd(7)} ${r.endpoint}${size}`
    }
    case 'response': {
      const r = activity.request
      const noteworthy = r.status !== 200 || r.fault !== undefined || r.endpoint === '/o/sdk'
      if (!noteworthy) return undefined
      const fault = r.fault === undefined ? '' : `  [fault: ${r.fault}]`
      const status = r.status === undefined ? 'no answer' : String(r.status)
      return `${INDENT}<- ${status} ${truncate(r.responseBody ?? '', 100)}${fault}`
    }
    case 'item': {
      const i = activity.item
      const reason = i.reason === undefined ? '' : ` (${i.reason})`
      return `${INDENT}${i.via === 'bulk' ? 'bulk item' : 'request  '}  ${i.device_id ?? '-'}  ${i.outcome}${reason}  ${itemFlags(i.params)}`.trimEnd()
    }
    case 'event':
      return `${INDENT}  event  ${eventText(activity.event)}`
    case 'crash': {
      const c = activity.crash
      return `${INDENT}  crash  ${c.name} (${c.nonfatal ? 'nonfatal' : 'fatal'}) ${c.os} app ${c.app_version}  [${c.device_id}]`
    }
    case 'trace': {
      const t = activity.trace
      const metrics = Object.entries(t.metrics)
        .map(([key, value]) => `${key}=${value}`)
        .join(' ')
      return `${INDENT}  trace  ${t.type} ${t.name}  ${metrics}`
    }
    case 'violation': {
      const v = activity.violation
      return `${INDENT}! ${v.code}${v.deviceId === undefined ? '' : ` [${v.deviceId}]`}: ${v.message}`
    }
  }
}

function itemFlags(params: Record<string, unknown>): string {
  const flags: string[] = []
  if (params.begin_session) flags.push('begin_session')
  if (params.session_duration !== undefined) flags.push(`session_duration=${String(params.session_duration)}`)
  if (params.end_session) flags.push('end_session')
  if (params.old_device_id !== undefined) flags.push(`merge<-${String(params.old_device_id)}`)
  for (const name of ['metrics', 'consent', 'crash', 'apm', 'user_details', 'location'] as const) {
    if (params[name] !== undefined) flags.push(name)
  }
  if (Array.isArray(params.events)) flags.push(`events:${params.events.length}`)
  return flags.join(' ')
}

function eventText(e: ReceivedEvent): string {
  const parts = [e.key]
  if (e.name !== undefined && e.name !== e.key) parts.push(`"${e.name}"`)
  if (e.count !== 1) parts.push(`x${e.count}`)
  if (e.sum !== undefined) parts.push(`sum=${e.sum}`)
  if (e.dur !== undefined) parts.push(`dur=${e.dur}`)
  if (Object.keys(e.segmentation).length > 0) parts.push(truncate(describeSegmentation(e.segmentation), 120))
  parts.push(`[${e.device_id}]`)
  return parts.join('  ')
}

function describeSegmentation(segmentation: Record<string, unknown>): string {
  return `{${Object.entries(segmentation)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : describe(value)}`)
    .join(', ')}}`
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23)
}
