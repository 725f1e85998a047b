/** Request time fields of the Countly protocol (PROTOCOL §2.2). */
export interface TimeFields {
  readonly timestamp: number
  readonly hour: number
  readonly dow: number
  readonly tz: number
}

const HOUR_MS = 3_600_000

/**
 * Wall-clock fields for requests and events. Request timestamps are unique
 * within the process (13-digit ms, bumped by one when equal) because the
 * server's duplicate check keys on them. `hour`, `dow` and `tz` only change at
 * hour boundaries (time-zone shifts happen on them too), so they are computed
 * once per hour instead of once per event.
 */
export class Clock {
  private lastTimestamp = 0
  private cacheUntil = 0
  private hour = 0
  private dow = 0
  private tz = 0
  /** A second slot for another hour (a trace that started in the previous hour), so the two do not evict each other. */
  private otherUntil = 0
  private otherHour = 0
  private otherDow = 0
  private otherTz = 0

  constructor(private readonly now: () => number = Date.now) {}

  /** A timestamp no other request of this process has. */
  uniqueTimestamp(): number {
    let ts = this.now()
    if (ts <= this.lastTimestamp) ts = this.lastTimestamp + 1
    this.lastTimestamp = ts
    return ts
  }

  /**
   * A request timestamp: unique within the process while that keeps it
   * within `maxLeadMs` of the clock; past that (over a thousand requests a
   * second for a while) just above `floor`, the device's last one, which is
   * all the server's per-device duplicate check needs. Never far in the future.
   */
  requestTimestamp(floor: number, maxLeadMs: number): number {
    const now = this.now()
    const unique = now > this.lastTimestamp ? now : this.lastTimestamp + 1
    if (unique - now <= maxLeadMs) {
      this.lastTimestamp = unique
      return unique
    }
    const own = now > floor ? now : floor + 1
    if (own > this.lastTimestamp) this.lastTimestamp = own
    return own
  }

  /** Plain current time in ms (events may share one). */
  timestamp(): number {
    return this.now()
  }

  fields(timestamp: number): TimeFields {
    this.select(timestamp)
    return { timestamp, hour: this.hour, dow: this.dow, tz: this.tz }
  }

  hourOf(timestamp: number): number {
    this.select(timestamp)
    return this.hour
  }

  dowOf(timestamp: number): number {
    this.select(timestamp)
    return this.dow
  }

  /** Make the main slot hold `timestamp`'s hour: swap with the other slot, or compute it. */
  private select(timestamp: number): void {
    if (timestamp < this.cacheUntil && timestamp >= this.cacheUntil - HOUR_MS) return
    if (timestamp < this.otherUntil && timestamp >= this.otherUntil - HOUR_MS) {
      ;[this.cacheUntil, this.otherUntil] = [this.otherUntil, this.cacheUntil]
      ;[this.hour, this.otherHour] = [this.otherHour, this.hour]
      ;[this.dow, this.otherDow] = [this.otherDow, this.dow]
      ;[this.tz, this.otherTz] = [this.otherTz, this.tz]
      return
    }
    this.otherUntil = this.cacheUntil
    this.otherHour = this.hour
    this.otherDow = this.dow
    this.otherTz = this.tz
    this.refresh(timestamp)
  }

  private refresh(timestamp: number): void {
    const date = new Date(timestamp)
    this.hour = date.getHours()
    this.dow = date.getDay()
    this.tz = 0 - date.getTimezoneOffset() || 0
    const next = new Date(timestamp)
    next.setMinutes(60, 0, 0)
    this.cacheUntil = next.getTime()
  }
}
