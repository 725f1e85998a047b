import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTestServer, type TestServer, type TestServerOptions } from '@telemeter/testkit'
import { afterEach } from 'vitest'
import { createTelemeter, type Logger, type Telemeter, type TelemeterConfig } from '../src/index.js'

export const APP_KEY = 'TEST_APP_KEY'

/** A logger that keeps what it is told, so tests can assert on warnings. */
export function captureLogger(): Logger & {
  lines: { level: string; message: string }[]
  warnings(): string[]
} {
  const lines: { level: string; message: string }[] = []
  const push = (level: string) => (message: string) => lines.push({ level, message })
  return {
    lines,
    debug: push('debug'),
    info: push('info'),
    warn: push('warn'),
    error: push('error'),
    warnings: () => lines.filter((line) => line.level === 'warn').map((line) => line.message),
  }
}

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Run after the current test, in reverse order of registration. */
export function onCleanup(cleanup: () => Promise<void> | void): void {
  cleanups.push(async () => {
    await cleanup()
  })
}

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'telemeter-test-'))
  onCleanup(() => rm(dir, { recursive: true, force: true }))
  return dir
}

export async function testServer(options?: TestServerOptions): Promise<TestServer> {
  const server = await startTestServer({ appKey: APP_KEY, ...options })
  onCleanup(() => server.close())
  return server
}

export interface Setup {
  server: TestServer
  telemeter: Telemeter
  logger: ReturnType<typeof captureLogger>
}

/** A test server and a Telemeter pointed at it (memory storage, manual sessions, fast flush). */
export async function setup(
  config: Partial<TelemeterConfig> = {},
  serverOptions?: TestServerOptions,
): Promise<Setup> {
  const server = await testServer(serverOptions)
  const logger = captureLogger()
  const telemeter = createTelemeter({
    url: server.url,
    appKey: APP_KEY,
    storage: 'memory',
    sessions: 'manual',
    flushIntervalMs: 20,
    serverConfig: false,
    retry: { baseDelayMs: 20, maxDelayMs: 200 },
    debug: logger,
    ...config,
  })
  onCleanup(() => telemeter.shutdown({ timeoutMs: 500 }))
  return { server, telemeter, logger }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
