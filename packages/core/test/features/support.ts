import type { IngestedRequest, TestServer } from '@telemeter/testkit'
import { createTelemeter, type Telemeter, type TelemeterConfig } from '../../src/index.js'
import { APP_KEY, captureLogger, onCleanup } from '../helpers.js'

/** `/i` requests and bulk items the server processed for one device, in order. */
export function itemsOf(server: TestServer, deviceId: string): IngestedRequest[] {
  return server.items.filter((item) => item.device_id === deviceId && item.outcome === 'processed')
}

/** Parameters of the processed items of `deviceId` that carry `param`. */
export function paramsWith(server: TestServer, deviceId: string, param: string): Record<string, unknown>[] {
  return itemsOf(server, deviceId)
    .map((item) => item.params)
    .filter((params) => params[param] !== undefined)
}

/** HTTP requests that carried ingestion data (`/i` or `/i/bulk`). */
export function ingestRequests(server: TestServer) {
  return server.requests.filter((request) => request.endpoint === '/i' || request.endpoint === '/i/bulk')
}

/** `/o/sdk` requests of one method, with their parsed query. */
export function sdkRequests(server: TestServer, method: 'rc' | 'sc') {
  return server.requests.filter((request) => request.endpoint === '/o/sdk' && request.query.method === method)
}

/** Which protocol action an item is, for order assertions. */
export function actionOf(params: Record<string, unknown>): string {
  if (params.begin_session !== undefined) return 'begin'
  if (params.end_session !== undefined) return 'end'
  if (params.crash !== undefined) return 'crash'
  if (params.old_device_id !== undefined) return 'merge'
  if (params.consent !== undefined) return 'consent'
  if (params.events !== undefined) {
    const keys = (params.events as { key: string }[]).map((event) => event.key)
    return `events:${keys.join(',')}`
  }
  if (params.session_duration !== undefined) return 'extend'
  if (params.user_details !== undefined) return 'user'
  if (params.apm !== undefined) return 'apm'
  if (params.hc !== undefined) return 'hc'
  return Object.keys(params)
    .filter((key) => !COMMON.has(key))
    .join(',')
}

const COMMON = new Set([
  'app_key',
  'device_id',
  't',
  'timestamp',
  'hour',
  'dow',
  'tz',
  'sdk_name',
  'sdk_version',
  'rr',
])

/**
 * A Telemeter on file storage in `dir`, so tests can restart it. Same fast
 * settings as `setup()`; the caller shuts it down (a cleanup does it too).
 */
export function fileTelemeter(
  server: TestServer,
  dir: string,
  config: Partial<TelemeterConfig> = {},
): { telemeter: Telemeter; logger: ReturnType<typeof captureLogger> } {
  const logger = captureLogger()
  const telemeter = createTelemeter({
    url: server.url,
    appKey: APP_KEY,
    storage: 'file',
    storagePath: dir,
    sessions: 'manual',
    flushIntervalMs: 20,
    serverConfig: false,
    retry: { baseDelayMs: 20, maxDelayMs: 200 },
    debug: logger,
    ...config,
  })
  onCleanup(() => telemeter.shutdown({ timeoutMs: 500 }))
  return { telemeter, logger }
}
