import { createTelemeter, type Telemeter, type TelemeterConfig } from '@telemeter/core'
import { startTestServer, type TestServer } from '@telemeter/testkit'

export const APP_KEY = 'OTEL_APP_KEY'
/** The Telemeter's own device id in every test. */
export const SERVICE_DEVICE = 'service-1'

export interface Backend {
  readonly server: TestServer
  readonly telemeter: Telemeter
  /** `[telemeter]` warnings logged so far. */
  readonly warnings: string[]
  /** Shut the Telemeter down, then the test server. */
  close(): Promise<void>
}

/** A test server and a Telemeter pointed at it (memory storage, manual sessions, fast flush). */
export async function startBackend(config: Partial<TelemeterConfig> = {}): Promise<Backend> {
  const server = await startTestServer({ appKey: APP_KEY, sessionCooldownS: 0 })
  const warnings: string[] = []
  const ignore = () => {}
  const telemeter = createTelemeter({
    url: server.url,
    appKey: APP_KEY,
    storage: 'memory',
    deviceId: SERVICE_DEVICE,
    appVersion: '1.0.0',
    sessions: 'manual',
    flushIntervalMs: 10,
    debug: { debug: ignore, info: ignore, warn: (message) => warnings.push(message), error: ignore },
    ...config,
  })
  return {
    server,
    telemeter,
    warnings,
    async close() {
      await telemeter.shutdown({ timeoutMs: 1_000 })
      await server.close()
    },
  }
}

/** Epoch ms of a span time tuple. */
export function hrMs(time: readonly [number, number]): number {
  return time[0] * 1_000 + time[1] / 1_000_000
}
