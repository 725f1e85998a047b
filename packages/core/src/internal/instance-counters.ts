import type { TelemeterCore } from './client.js'

/** Value key of the day's usage counters in storage. */
export const INSTANCE_COUNTERS_KEY = 'instanceCounters'
/** Most distinct feature keys (or sections) counted per day; Countly keeps 500 event keys per app. */
export const MAX_DAILY_KEYS = 500
const DAY_MS = 86_400_000

/** Feature usage (`count`) and visited sections (`section`) are counted separately. */
export type CounterKind = 'features' | 'sections'

/** One day's counters, as kept in storage. */
export interface DayCounts {
  /** UTC calendar day, `YYYY-MM-DD`. */
  readonly day: string
  readonly features: Record<string, number>
  readonly sections: Record<string, number>
}

/** The UTC calendar day of a time: days do not depend on the server's time zone. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

/** The first millisecond of the UTC day after `day`. */
function endOf(day: string): number {
  return Date.parse(`${day}T00:00:00.000Z`) + DAY_MS
}

/** The time a day's totals are reported at: its midday (UTC), so every app time zone within ±12 h buckets them on that day. */
export function dayTimestamp(day: string, now: number): number {
  const midday = Date.parse(`${day}T12:00:00.000Z`)
  return Number.isFinite(midday) ? Math.min(midday, now) : now
}

function isCountMap(value: unknown): value is Record<string, number> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  return Object.values(value).every(
    (count) => typeof count === 'number' && Number.isFinite(count) && count > 0,
  )
}

/**
 * Per-day usage counters kept in core's small persisted values, so counts
 * survive restarts: a count is a map update; the JSON is written at most
 * once per event-loop turn and core coalesces the storage writes. When the
 * day is over (noticed on the next count, heartbeat, start or stop) its
 * totals are handed to `report` and the counters start again.
 */
export class DailyCounters {
  private current: { day: string; features: Map<string, number>; sections: Map<string, number> }
  /** When the counted day is over: a count is one comparison away from knowing it is not. */
  private dayEnd: number
  private saveScheduled = false

  constructor(
    private readonly core: TelemeterCore,
    now: number,
  ) {
    this.current = { day: dayOf(now), features: new Map(), sections: new Map() }
    this.dayEnd = endOf(this.current.day)
  }

  /** Take over what an earlier run counted (storage is open). */
  load(): void {
    const saved = this.core.values[INSTANCE_COUNTERS_KEY]
    if (!saved) return
    try {
      const parsed = JSON.parse(saved) as Partial<DayCounts>
      if (
        typeof parsed.day !== 'string' ||
        !/^\d{4}-\d{2}-\d{2}$/.test(parsed.day) ||
        !isCountMap(parsed.features ?? {}) ||
        !isCountMap(parsed.sections ?? {})
      )
        throw new Error('unexpected shape')
      this.current = {
        day: parsed.day,
        features: new Map(Object.entries(parsed.features ?? {})),
        sections: new Map(Object.entries(parsed.sections ?? {})),
      }
      this.dayEnd = endOf(parsed.day)
    } catch {
      this.core.logger.warn('stored usage counters were unreadable and are reset')
      this.core.setValue(INSTANCE_COUNTERS_KEY, null)
    }
  }

  get day(): string {
    return this.current.day
  }

  get empty(): boolean {
    return this.current.features.size === 0 && this.current.sections.size === 0
  }

  /** Add `n` to a key of today; false when the day already holds too many distinct keys. */
  add(kind: CounterKind, key: string, n: number): boolean {
    const counts = this.current[kind]
    const before = counts.get(key)
    if (before === undefined && counts.size >= MAX_DAILY_KEYS) return false
    counts.set(key, (before ?? 0) + n)
    this.scheduleSave()
    return true
  }

  /**
   * If `now` is on a later day than the counters, hand the finished day to
   * `report` and start the new day. Returns whether a day was finished.
   */
  rollover(now: number, report: (counts: DayCounts) => void): boolean {
    // A clock set back keeps counting into the stored day rather than losing it.
    if (now < this.dayEnd) return false
    const today = dayOf(now)
    const finished = this.snapshot()
    const hadCounts = !this.empty
    this.current = { day: today, features: new Map(), sections: new Map() }
    this.dayEnd = endOf(today)
    if (hadCounts) report(finished)
    this.saveNow()
    return true
  }

  /** Hand over today's counts now and start again (storage that cannot keep them past shutdown). */
  takeToday(report: (counts: DayCounts) => void): void {
    if (this.empty) return
    const counts = this.snapshot()
    this.current = { day: this.current.day, features: new Map(), sections: new Map() }
    report(counts)
    this.saveNow()
  }

  /** Forget counts of one kind (its feature was switched off), or all of them (telemetry switched off). */
  clear(kind?: CounterKind): void {
    if (kind === undefined || kind === 'features') this.current.features.clear()
    if (kind === undefined || kind === 'sections') this.current.sections.clear()
    this.saveNow()
  }

  /** Write the counters now (through core's coalescing persister). Nothing counted: nothing stored. */
  saveNow(): void {
    this.saveScheduled = false
    const value = this.empty ? null : JSON.stringify(this.snapshot())
    if (value !== (this.core.values[INSTANCE_COUNTERS_KEY] ?? null))
      this.core.setValue(INSTANCE_COUNTERS_KEY, value)
  }

  private scheduleSave(): void {
    if (this.saveScheduled) return
    this.saveScheduled = true
    setImmediate(() => {
      if (this.saveScheduled && !this.core.closed) this.saveNow()
    })
  }

  private snapshot(): DayCounts {
    return {
      day: this.current.day,
      features: Object.fromEntries(this.current.features),
      sections: Object.fromEntries(this.current.sections),
    }
  }
}
