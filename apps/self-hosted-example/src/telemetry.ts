import { createHash } from 'node:crypto'
import { join } from 'node:path'
import {
  createTelemeter,
  type DeviceScope,
  type InstanceProperties,
  type InstanceStatus,
  type InstanceTelemetry,
  type Telemeter,
  type TelemeterConfig,
  type TelemeterStatus,
} from '@telemeter/core'
import { publicSettings, type SettingsPatch, type TelemetrySettings } from './settings.js'

export interface TelemetryControlOptions {
  settings: TelemetrySettings
  /** `memory` (demo, tests) or a data directory for file storage. */
  storage: 'memory' | { dataDir: string }
  appVersion?: string
  /** Server properties sampled with each heartbeat. */
  properties?: () => InstanceProperties | Promise<InstanceProperties>
  /** Record product telemetry even when `CI` is set (the demo). @default false */
  trackCI?: boolean
  /** Called after every accepted settings change (to persist it). */
  onChange?: (settings: TelemetrySettings) => void
  /** Extra Telemeter options (tests shorten the flush interval). */
  config?: Partial<TelemeterConfig>
}

/** What `GET /admin/telemetry` answers and the `status` CLI prints. */
export interface TelemetryReport {
  settings: ReturnType<typeof publicSettings>
  status: TelemeterStatus
  instance: InstanceStatus
}

/**
 * One destination and identifier choice = one Telemeter. Changing the
 * destination or the identifier choice recreates it (hashing is decided at
 * creation); per-category toggles and the global switch apply in place.
 * Each destination keeps its own storage: data queued for one server never
 * goes to another, and each has its own anonymous instance id.
 */
export class TelemetryControl {
  telemeter!: Telemeter
  instance!: InstanceTelemetry
  private current: TelemetrySettings
  private readonly seenUsers = new Set<string>()

  constructor(private readonly options: TelemetryControlOptions) {
    this.current = options.settings
    this.open()
  }

  get settings(): TelemetrySettings {
    return this.current
  }

  /** The scope to record a user's own activity under, or undefined when users are not identified. */
  userScope(userId: string | undefined, email?: string): DeviceScope | undefined {
    if (!userId || this.current.identifiers === 'none') return undefined
    const scope = this.telemeter.forDevice(userId)
    if (email && !this.seenUsers.has(userId)) {
      this.seenUsers.add(userId)
      scope.setUserDetails({ email })
    }
    return scope
  }

  async update(patch: SettingsPatch): Promise<void> {
    const next: TelemetrySettings = {
      url: patch.url ?? this.current.url,
      appKey: patch.appKey ?? this.current.appKey,
      identifiers: patch.identifiers ?? this.current.identifiers,
      tracking: { ...this.current.tracking, ...patch.tracking },
    }
    const recreate =
      next.url !== this.current.url ||
      next.appKey !== this.current.appKey ||
      next.identifiers !== this.current.identifiers
    if (recreate) {
      // The operator's off switch is theirs, whatever the destination.
      const switchedOff = this.telemeter.status().decidedBy === 'operator'
      await this.telemeter.shutdown({ timeoutMs: 1_000 })
      this.current = next
      this.seenUsers.clear()
      this.open()
      if (switchedOff) this.telemeter.setEnabled(false)
    } else {
      this.current = next
      if (patch.tracking) this.telemeter.setTracking(patch.tracking)
    }
    if (patch.enabled !== undefined) this.telemeter.setEnabled(patch.enabled)
    this.options.onChange?.(this.current)
  }

  report(): TelemetryReport {
    return {
      settings: publicSettings(this.current),
      status: this.telemeter.status(),
      instance: this.instance.status(),
    }
  }

  shutdown(): Promise<void> {
    return this.telemeter.shutdown({ timeoutMs: 2_000 })
  }

  private open(): void {
    this.telemeter = createTelemeter(telemeterConfig(this.current, this.options))
    const { properties, trackCI } = this.options
    this.instance = this.telemeter.instance({
      ...(properties ? { properties } : {}),
      trackCI: trackCI === true,
    })
  }
}

/** The Telemeter configuration for the current settings (also what the offline `status` CLI opens). */
export function telemeterConfig(
  settings: TelemetrySettings,
  options: Pick<TelemetryControlOptions, 'storage' | 'appVersion' | 'config'>,
): TelemeterConfig {
  const { storage, appVersion, config } = options
  return {
    url: settings.url,
    appKey: settings.appKey,
    ...(storage === 'memory'
      ? { storage: 'memory' as const }
      : { storagePath: storagePathOf(storage.dataDir, settings) }),
    ...(appVersion ? { appVersion } : {}),
    tracking: settings.tracking,
    hashIdentifiers: settings.identifiers === 'hashed',
    // The server's own device is the instance's business; users get their events, not sessions.
    sessions: 'manual',
    requestTimeoutMs: 5_000,
    ...config,
  }
}

/** Storage of one destination: a directory named after a digest of the URL and app key. */
export function storagePathOf(dataDir: string, settings: Pick<TelemetrySettings, 'url' | 'appKey'>): string {
  const digest = createHash('sha256').update(`${settings.url}\n${settings.appKey}`).digest('hex').slice(0, 12)
  return join(dataDir, 'telemetry', digest)
}
