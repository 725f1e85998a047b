import { appendFileSync } from 'node:fs'
import type { TestServer } from '@telemeter/testkit'
import type { DeviceScope, DropInfo, DropReason, Telemeter } from '../../src/index.js'

/**
 * Shared machinery of the reliability suite: scale (CI vs soak), a seeded
 * random source, and the ledger that checks the accounting identity every
 * scenario ends with: each recorded event is received by the server exactly
 * once, or reported through `dropped` exactly once with a reason.
 */

/** `TELEMETER_SOAK=1` (or `pnpm test:reliability -- --soak`) scales counts and durations up. */
export const SOAK = process.env.TELEMETER_SOAK === '1'

/** The CI figure, or the soak figure in soak mode. */
export function scaled<T>(ci: T, soak: T): T {
  return SOAK ? soak : ci
}

/** Seeds come from TELEMETER_SEED when given, so a failing run can be replayed. */
export function seedOf(name: string): number {
  const given = Number(process.env.TELEMETER_SEED)
  if (Number.isSafeInteger(given)) return given
  let hash = 2166136261
  for (const char of `${name}:${Date.now()}`) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619)
  return hash >>> 0
}

/** mulberry32: a small seeded PRNG in [0, 1). */
export function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const EVENT_KEY = 'rel'

/** The ids (`segmentation.rid`) of the events inside `dropped` payloads or stored request parameters. */
export function idsInParams(params: readonly Readonly<Record<string, unknown>>[]): string[] {
  const ids: string[] = []
  for (const param of params) {
    let events = param.events
    if (typeof events === 'string') events = JSON.parse(events) as unknown
    if (!Array.isArray(events)) continue
    for (const event of events as { segmentation?: { rid?: unknown } }[]) {
      const rid = event?.segmentation?.rid
      if (typeof rid === 'string') ids.push(rid)
    }
  }
  return ids
}

/** Ids of the events the server stored (duplicates appear twice). */
export function receivedIds(server: TestServer): string[] {
  return server
    .events({ key: EVENT_KEY })
    .map((event) => event.segmentation.rid)
    .filter((rid): rid is string => typeof rid === 'string')
}

export interface Accounting {
  readonly scenario: string
  readonly recorded: number
  readonly received: number
  readonly dropped: Partial<Record<DropReason, number>>
  /** Items the server's duplicate check answered "Duplicate request" (re-sent, absorbed). */
  readonly duplicatesAbsorbed: number
  /** Lost by design: recorded inside the last flush interval before a kill -9. */
  readonly lostInCrashWindow: number
  /** Extra figures a scenario reports (memory, rates, timings). */
  readonly notes: Record<string, number | string>
}

/**
 * Everything a scenario recorded and everything it was told was dropped. The
 * identity is checked on ids, not counts: `problems()` lists every id that
 * was received twice, dropped twice, both received and dropped, or neither.
 */
export class Ledger {
  readonly recorded = new Set<string>()
  private readonly dropped = new Map<string, DropReason[]>()
  /** Event counts of `dropped` infos by reason, to check the counts agree with the ids. */
  private readonly countedByReason = new Map<DropReason, number>()
  /** Events a drop counted but could not name (records corrupted on disk). */
  readonly unnamed: DropInfo[] = []
  private readonly lost = new Set<string>()
  private next = 0

  constructor(readonly scenario: string) {}

  /** A new unique id. */
  id(prefix = 'e'): string {
    const id = `${prefix}${this.next++}`
    this.recorded.add(id)
    return id
  }

  /** Record one identified event through `scope`. */
  event(scope: DeviceScope, prefix?: string): string {
    const id = this.id(prefix)
    scope.event(EVENT_KEY, { segmentation: { rid: id } })
    return id
  }

  /** Ids recorded elsewhere (a child process). */
  addRecorded(ids: Iterable<string>): void {
    for (const id of ids) this.recorded.add(id)
  }

  /** Collect every `dropped` report of `telemeter`. */
  watch(telemeter: Telemeter): () => void {
    return telemeter.on('dropped', (info) => this.noteDrop(info))
  }

  /** A `dropped` report; `ids` when they were already read from its payloads (a child process). */
  noteDrop(
    info: Pick<DropInfo, 'reason' | 'events' | 'payloads'>,
    ids: readonly string[] = idsInParams(info.payloads ?? []),
  ): void {
    this.countedByReason.set(info.reason, (this.countedByReason.get(info.reason) ?? 0) + info.events)
    this.noteDroppedIds(info.reason, ids)
    if (ids.length < info.events) this.unnamed.push(info as DropInfo)
  }

  noteDroppedIds(reason: DropReason, ids: Iterable<string>): void {
    for (const id of ids) {
      const reasons = this.dropped.get(id)
      if (reasons) reasons.push(reason)
      else this.dropped.set(id, [reason])
    }
  }

  /** Events that died with a killed process before they reached its journal. */
  noteLost(ids: Iterable<string>): void {
    for (const id of ids) this.lost.add(id)
  }

  /** Every id that breaks the identity, with what happened to it. */
  problems(server: TestServer | readonly string[], resent?: Resent): string[] {
    const received = countIds(Array.isArray(server) ? server : receivedIds(server as TestServer))
    // Copies the server processed again for a documented reason (see resentRequests) count once.
    for (const id of resent?.inLostMultiRequestCall.ids ?? []) received.set(id, (received.get(id) ?? 1) - 1)
    const unconfirmed = new Set(resent?.unconfirmed ?? [])
    const problems: string[] = []
    for (const id of this.recorded) {
      const times = received.get(id) ?? 0
      const drops = this.dropped.get(id) ?? []
      const lost = this.lost.has(id) ? 1 : 0
      // Processed, but the client never read an answer saying so, then dropped: it cannot know better.
      if (times === 1 && drops.length === 1 && unconfirmed.has(id)) continue
      if (times + drops.length + lost !== 1)
        problems.push(`${id}: received ${times}x, dropped [${drops.join(', ')}]${lost ? ', lost' : ''}`)
    }
    for (const id of received.keys())
      if (!this.recorded.has(id)) problems.push(`${id}: received, never recorded`)
    for (const id of this.dropped.keys())
      if (!this.recorded.has(id)) problems.push(`${id}: dropped, never recorded`)
    return problems
  }

  /** Events `dropped` counted per reason minus the ones it named: 0 everywhere when counts and ids agree. */
  unnamedByReason(): Partial<Record<DropReason, number>> {
    const named = new Map<DropReason, number>()
    for (const reasons of this.dropped.values())
      for (const reason of reasons) named.set(reason, (named.get(reason) ?? 0) + 1)
    const result: Partial<Record<DropReason, number>> = {}
    for (const [reason, counted] of this.countedByReason) {
      const gap = counted - (named.get(reason) ?? 0)
      if (gap !== 0) result[reason] = gap
    }
    return result
  }

  /** The figures of the scenario; also appended to TELEMETER_RELIABILITY_REPORT (JSON lines) when set. */
  summary(
    server: TestServer | readonly string[],
    notes: Record<string, number | string> = {},
    duplicatesAbsorbed?: number,
  ): Accounting {
    const ids = Array.isArray(server) ? server : receivedIds(server as TestServer)
    const dropped: Partial<Record<DropReason, number>> = {}
    for (const reasons of this.dropped.values())
      for (const reason of reasons) dropped[reason] = (dropped[reason] ?? 0) + 1
    const summary: Accounting = {
      scenario: this.scenario,
      recorded: this.recorded.size,
      received: ids.length,
      dropped,
      duplicatesAbsorbed:
        duplicatesAbsorbed ?? (Array.isArray(server) ? 0 : duplicateItems(server as TestServer)),
      lostInCrashWindow: this.lost.size,
      notes,
    }
    report(summary)
    return summary
  }
}

/** Items the server answered with "Duplicate request". */
export function duplicateItems(server: TestServer): number {
  return server.items.filter((item) => item.outcome === 'duplicate').length
}

function countIds(ids: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1)
  return counts
}

/** One line per scenario on stdout, and a JSON line in TELEMETER_RELIABILITY_REPORT when set. */
export function report(summary: Accounting): void {
  const drops = Object.entries(summary.dropped)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ')
  const notes = Object.entries(summary.notes)
    .map(([key, value]) => `${key} ${value}`)
    .join(', ')
  console.log(
    `[reliability] ${summary.scenario}: recorded ${summary.recorded}, received ${summary.received}, dropped {${drops}}, duplicates absorbed ${summary.duplicatesAbsorbed}, lost in crash window ${summary.lostInCrashWindow}${notes ? `; ${notes}` : ''}`,
  )
  const file = process.env.TELEMETER_RELIABILITY_REPORT
  if (file)
    appendFileSync(file, `${JSON.stringify({ ...summary, soak: SOAK, at: new Date().toISOString() })}\n`)
}

/**
 * Requests the server processed twice. Re-sending a call is harmless for a
 * request that was the last of its device the server processed (its
 * duplicate check absorbs it); it is not when the lost call carried several
 * requests of one device: the server remembers only the last. Telemeter sends
 * one request per device per call after a lost answer, so such duplicates can
 * only come from calls already in flight when the first answer was lost.
 */
export interface Resent {
  /** Items the server answered "Duplicate request". */
  readonly absorbed: number
  /** Processed again, first sent in a call whose answer was lost and that carried several requests of the device. */
  readonly inLostMultiRequestCall: { readonly requests: number; readonly ids: readonly string[] }
  /** Processed again for any other reason: a defect. */
  readonly unexplained: readonly string[]
  /** Ids of events the server processed only in calls whose answer the client never read. */
  readonly unconfirmed: readonly string[]
}

/** Classify every processed item whose device and timestamp the server had already processed. */
export function resentRequests(server: TestServer, lostCall: (requestIndex: number) => boolean): Resent {
  const first = new Map<string, (typeof server.items)[number]>()
  const perCall = new Map<string, number>()
  for (const item of server.items) {
    const key = `${item.requestIndex}:${item.device_id}`
    perCall.set(key, (perCall.get(key) ?? 0) + 1)
  }
  let requests = 0
  const ids: string[] = []
  const unexplained: string[] = []
  for (const item of server.items) {
    if (item.outcome !== 'processed') continue
    const key = `${item.device_id}:${String(item.params.timestamp)}`
    const earlier = first.get(key)
    if (!earlier) {
      first.set(key, item)
      continue
    }
    const several = (perCall.get(`${earlier.requestIndex}:${earlier.device_id}`) ?? 0) > 1
    if (several && lostCall(earlier.requestIndex)) {
      requests++
      ids.push(...idsInParams([item.params]))
    } else unexplained.push(`${key} (first in call ${earlier.requestIndex}, again in ${item.requestIndex})`)
  }
  const confirmed = new Set<string>()
  const seen = new Set<string>()
  for (const item of server.items) {
    if (item.outcome !== 'processed' && item.outcome !== 'duplicate') continue
    for (const id of idsInParams([item.params])) {
      seen.add(id)
      if (!lostCall(item.requestIndex)) confirmed.add(id)
    }
  }
  const unconfirmed = [...seen].filter((id) => !confirmed.has(id))
  return {
    absorbed: duplicateItems(server),
    inLostMultiRequestCall: { requests, ids },
    unexplained,
    unconfirmed,
  }
}

/** A call of `server` whose answer the client cannot have read (reset, hang, or a fault answering late). */
export function answerLost(server: TestServer, lateFaults: readonly string[] = ['slow']) {
  return (requestIndex: number): boolean => {
    const request = server.requests[requestIndex]
    return (
      request !== undefined &&
      (request.status === undefined || (request.fault !== undefined && lateFaults.includes(request.fault)))
    )
  }
}
