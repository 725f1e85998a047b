import type { ReceivedEvent, TestServer, TestServerOptions } from '@telemeter/testkit'
import { beforeEach, vi } from 'vitest'
import type { InstanceOptions, InstanceTelemetry, Telemeter, TelemeterConfig } from '../../src/index.js'
import { INSTANCE_CLOCK } from '../../src/internal/instance-options.js'
import { type Setup, setup } from '../helpers.js'

export const DAY_MS = 86_400_000
export const HOUR_MS = 3_600_000

// The repository's own CI sets CI=1; product telemetry is off there unless a test says otherwise.
beforeEach(() => {
  vi.stubEnv('CI', '')
  return () => vi.unstubAllEnvs()
})

/** A clock product telemetry reads instead of Date.now, moved by hand across days. */
export class TestClock {
  constructor(public now: number) {}
  advance(ms: number): void {
    this.now += ms
  }
  /** For `instance()` options: the internal clock option. */
  get option(): { [INSTANCE_CLOCK]: () => number } {
    return { [INSTANCE_CLOCK]: () => this.now }
  }
}

/** Midnight UTC `days` days before today: a day in the past, so every timestamp sent is too. */
export function utcDayStart(daysAgo: number): number {
  return Math.floor(Date.now() / DAY_MS) * DAY_MS - daysAgo * DAY_MS
}

export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

export interface InstanceSetup extends Setup {
  instance: InstanceTelemetry
  clock: TestClock
}

/** A test server, a Telemeter (memory storage, manual sessions) and its product telemetry on a test clock. */
export async function instanceSetup(
  options: {
    config?: Partial<TelemeterConfig>
    instance?: InstanceOptions
    server?: TestServerOptions
    clock?: TestClock
  } = {},
): Promise<InstanceSetup> {
  const base = await setup(options.config, options.server)
  const clock = options.clock ?? new TestClock(utcDayStart(3) + 10 * HOUR_MS)
  const instance = base.telemeter.instance({ ...options.instance, ...clock.option } as InstanceOptions)
  return { ...base, instance, clock }
}

/** Another run of the same installation: product telemetry on `clock` for an existing Telemeter. */
export function instanceOn(
  telemeter: Telemeter,
  clock: TestClock,
  options?: InstanceOptions,
): InstanceTelemetry {
  return telemeter.instance({ ...options, ...clock.option } as InstanceOptions)
}

/** Events the server stored for the instance's device, optionally of one key. */
export function instanceEvents(
  server: TestServer,
  instanceId: string | undefined,
  key?: string,
): ReceivedEvent[] {
  if (instanceId === undefined) return []
  return server.events({ deviceId: instanceId, ...(key ? { key } : {}) })
}
