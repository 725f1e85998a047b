import type { Feature } from '../types.js'
import type { LocationParams } from './location.js'
import type { CustomChange } from './user.js'

/** Per-device state kept in memory while a device is active. */
export class DeviceState {
  /** Events recorded but not yet batched, per feature. */
  pending: Partial<Record<Feature, object[]>> | undefined
  pendingCount = 0
  /** Timed events: key -> start time (ms). */
  timed: Map<string, number> | undefined
  /** A stand-in for an unusable device id: everything recorded for it is refused. */
  refused = false
  /** Consent given for this device (when consent is required). */
  consent: Set<Feature> | undefined
  /** Lines sent with the next crash. */
  breadcrumbs: string[] | undefined
  sessionActive = false
  /** When set, the session ends after this long without activity (adapter-managed sessions). */
  sessionIdleMs = 0
  sessionUpdatedAt = 0
  lastActivity = 0
  /** Cached remote config values. */
  remoteConfig: Record<string, unknown> | undefined
  /** Location sent with the next session start. */
  location: LocationParams | undefined
  locationDisabled = false
  /** The view being shown, whose duration is reported when the next starts. */
  view: { name: string; startedAt: number } | undefined
  viewsInSession = 0
  /** Custom property operations waiting for `userData.save()`. */
  userChanges: Record<string, CustomChange> | undefined
  /** Timestamp of this device's last request (they must differ per device, see Clock.requestTimestamp). */
  lastTimestamp = 0
  /** A conversion (`reportConversion`) was sent for this device. */
  conversionReported = false
  /** JSON head of this device's requests (app key, device id, id type), and what it was made for. */
  head = ''
  headFor = ''
  headType = -1
  /** Client IP sent with session starts (adapters with `trackIp`). */
  ip: string | undefined
  /** Scope handle, created on first use and reused. */
  scope: unknown

  constructor(
    /** The id the host knows the device by. */
    public id: string,
    /** The id sent on the wire (hashed when identifiers are hashed). */
    public wireId: string,
    /** Device id type: 0 developer supplied, 1 SDK generated. */
    public idType: 0 | 1,
    /** Pinned devices (the instance's own) are never evicted. */
    readonly pinned: boolean,
  ) {}
}

/**
 * Per-device state for `forDevice(id)`, bounded: a least-recently-used map
 * capped at `maxDevices`, whose idle entries expire, so a million distinct
 * ids cannot grow memory without limit. Evicted devices are handed to
 * `onEvict` first, which flushes what they still hold.
 */
export class DeviceRegistry {
  private readonly devices = new Map<string, DeviceState>()
  private mostRecent: DeviceState | undefined
  /** Shortest idle time after which something happens to a device (eviction or session end). */
  private soonestIdleMs: number

  constructor(
    private readonly maxDevices: number,
    private readonly idleMs: number,
    private readonly create: (id: string) => DeviceState,
    private readonly onEvict: (device: DeviceState) => void,
    private readonly onIdleSession: (device: DeviceState) => void,
  ) {
    this.soonestIdleMs = idleMs
  }

  /** A device whose session ends after `ms` of silence (adapter-managed sessions). */
  watchSessionIdle(device: DeviceState, ms: number): void {
    device.sessionIdleMs = ms
    if (ms < this.soonestIdleMs) this.soonestIdleMs = ms
  }

  get size(): number {
    return this.devices.size
  }

  get(id: string, now: number): DeviceState {
    let device = this.devices.get(id)
    if (device === undefined) {
      device = this.create(id)
      this.devices.set(id, device)
      if (this.devices.size > this.maxDevices) this.evictOldest()
    } else if (device !== this.mostRecent) {
      // Map order is recency order: move to the end.
      this.devices.delete(id)
      this.devices.set(id, device)
    }
    this.mostRecent = device
    device.lastActivity = now
    return device
  }

  peek(id: string): DeviceState | undefined {
    return this.devices.get(id)
  }

  /** Flush and forget the state kept for `id`, if any (its id is about to be taken by another device). */
  release(id: string): void {
    const device = this.devices.get(id)
    if (device && !device.pinned) this.evict(device)
  }

  /** Re-key a device whose id changed (changeDeviceId). */
  rename(device: DeviceState, newId: string): void {
    this.devices.delete(device.id)
    device.id = newId
    this.devices.set(newId, device)
  }

  values(): IterableIterator<DeviceState> {
    return this.devices.values()
  }

  /**
   * End idle adapter sessions and expire devices idle for longer than
   * `idleMs`. Oldest first; stops at the first device too recent for either.
   */
  sweep(now: number): void {
    for (const device of this.devices.values()) {
      const idle = now - device.lastActivity
      if (idle < this.soonestIdleMs) break
      if (device.sessionActive && device.sessionIdleMs > 0 && idle >= device.sessionIdleMs)
        this.onIdleSession(device)
      if (idle >= this.idleMs && !device.pinned) this.evict(device)
    }
  }

  private evictOldest(): void {
    for (const device of this.devices.values()) {
      if (device.pinned) continue
      this.evict(device)
      return
    }
  }

  private evict(device: DeviceState): void {
    this.devices.delete(device.id)
    if (this.mostRecent === device) this.mostRecent = undefined
    this.onEvict(device)
  }
}
