import { existsSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { TestServer } from '@telemeter/testkit'
import {
  type DeviceScope,
  type TelemeterConfig,
  TRACKING_SWITCHES,
  type TrackingSwitch,
} from '../../src/index.js'
import { sdkRequests } from '../features/support.js'
import { APP_KEY, tempDir } from '../helpers.js'

/** The features the operator policy switches (star ratings are `feedback`). */
export const TRACKED = TRACKING_SWITCHES
export type Tracked = TrackingSwitch

/**
 * A production-like configuration: file storage, automatic sessions, server
 * settings and remote config fetched on start. Only timings are shortened.
 */
export function productionConfig(server: TestServer, storagePath: string): TelemeterConfig {
  return {
    url: server.url,
    appKey: APP_KEY,
    storagePath,
    flushIntervalMs: 20,
    remoteConfig: { auto: true },
    retry: { baseDelayMs: 20, maxDelayMs: 200 },
  }
}

/** File storage without automatic sessions or fetches: only what a test records is sent. */
export function quietConfig(server: TestServer, storagePath: string): TelemeterConfig {
  return {
    ...productionConfig(server, storagePath),
    sessions: 'manual',
    serverConfig: false,
    remoteConfig: { auto: false },
  }
}

/** The same in memory. */
export function memoryConfig(server: TestServer): TelemeterConfig {
  return { ...quietConfig(server, ''), storage: 'memory' }
}

/** A storage path that does not exist yet, inside a temporary directory removed after the test. */
export async function freshStoragePath(): Promise<string> {
  return join(await tempDir(), 'telemetry')
}

/** Every file under `dir`, relative, sorted; [] when it does not exist. */
export async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return []
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort()
}

/** One piece of data of every feature for `scope`, in the order a real app would record them. */
export async function recordEverything(scope: DeviceScope): Promise<Record<string, unknown>> {
  scope.beginSession()
  scope.event('report.created', { segmentation: { format: 'pdf' } })
  scope.view('settings/users')
  scope.captureError(new Error('disk full'))
  scope.reportTrace({
    type: 'network',
    name: 'GET /users/:id',
    metrics: { response_time: 12, response_code: 200 },
  })
  scope.setUserDetails({ name: 'Ada', email: 'ada@example.com', custom: { plan: 'pro' } })
  scope.setLocation({ countryCode: 'DE', city: 'Berlin' })
  scope.recordRating({ rating: 5, comment: 'great' })
  const remoteConfig = await scope.fetchRemoteConfig()
  scope.endSession()
  return remoteConfig
}

/** Which features' data of `deviceId` the server received. */
export function receivedFeatures(server: TestServer, deviceId: string): Record<Tracked, boolean> {
  const user = server.user(deviceId)
  const has = (key: string) => server.events({ key, deviceId }).length > 0
  return {
    sessions: has('[CLY]_session_begin'),
    events: has('report.created'),
    views: has('[CLY]_view'),
    crashes: server.crashes(deviceId).length > 0,
    apm: server.traces({ deviceId }).length > 0,
    users: user?.name === 'Ada',
    location: user?.country_code === 'DE',
    feedback: has('[CLY]_star_rating'),
    'remote-config': sdkRequests(server, 'rc').some((request) => request.query.device_id === deviceId),
  }
}
