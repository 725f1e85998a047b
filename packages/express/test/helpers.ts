import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createTelemeter, type Logger, type Telemeter, type TelemeterConfig } from '@telemeter/core'
import { startTestServer, type TestServer, type TestServerOptions } from '@telemeter/testkit'
import type { Express } from 'express'
import express4 from 'express4'
import express5 from 'express5'
import { afterEach } from 'vitest'

export const APP_KEY = 'EXPRESS_TEST_KEY'
export const SERVER_DEVICE = 'api-server-1'
/** Upper bound for deliveries to arrive; generous because CI machines can be busy. */
export const WAIT_MS = 15_000

/** Both supported majors: every integration suite runs against each. */
export const EXPRESS_VERSIONS = [
  { name: 'Express 4', major: 4, express: express4 },
  { name: 'Express 5', major: 5, express: express5 },
] as const

export type ExpressModule = (typeof EXPRESS_VERSIONS)[number]['express']

/** A logger that keeps what it is told, so tests can assert on warnings. */
export function captureLogger(): Logger & { warnings(): string[] } {
  const lines: { level: string; message: string }[] = []
  const push = (level: string) => (message: string) => {
    lines.push({ level, message })
  }
  return {
    debug: push('debug'),
    info: push('info'),
    warn: push('warn'),
    error: push('error'),
    warnings: () => lines.filter((line) => line.level === 'warn').map((line) => line.message),
  }
}

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

export function onCleanup(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup)
}

export interface Setup {
  server: TestServer
  telemeter: Telemeter
  logger: ReturnType<typeof captureLogger>
}

/** A test server and a Telemeter pointed at it (memory storage, manual own session, fast flush). */
export async function setup(
  config: Partial<TelemeterConfig> = {},
  serverOptions?: TestServerOptions,
): Promise<Setup> {
  const server = await startTestServer({ appKey: APP_KEY, ...serverOptions })
  onCleanup(() => server.close())
  const logger = captureLogger()
  const telemeter = createTelemeter({
    url: server.url,
    appKey: APP_KEY,
    deviceId: SERVER_DEVICE,
    appVersion: '3.1.4',
    storage: 'memory',
    sessions: 'manual',
    flushIntervalMs: 20,
    serverConfig: false,
    debug: logger,
    ...config,
  })
  onCleanup(() => telemeter.shutdown({ timeoutMs: 1_000 }))
  return { server, telemeter, logger }
}

/** Serve `app` on an ephemeral loopback port; returns its base URL. */
export async function listen(app: Express): Promise<string> {
  const http: Server = app.listen(0, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    http.once('listening', resolve)
    http.once('error', reject)
  })
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections()
        http.close(() => resolve())
      }),
  )
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}`
}

export interface Answer {
  status: number
  body: string
  headers: Headers
}

export async function request(base: string, path: string, init?: RequestInit): Promise<Answer> {
  const response = await fetch(base + path, init)
  return { status: response.status, body: await response.text(), headers: response.headers }
}

/** Deliver what is queued and wait until the server has `count` traces. */
export async function traces(setup: Setup, count: number) {
  await setup.telemeter.flush()
  await setup.server.waitFor((server) => server.traces().length >= count, WAIT_MS)
  return setup.server.traces()
}

/** Everything Telemeter sent, as one string: for privacy assertions. */
export function everythingSent(server: TestServer): string {
  return server.requests.map((r) => `${r.path}?${r.rawQuery}\n${r.body}`).join('\n')
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
