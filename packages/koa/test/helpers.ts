import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createTelemeter, type Telemeter } from '@telemeter/core'
import { startTestServer, type TestServer } from '@telemeter/testkit'
import type Koa from 'koa'
import Koa2 from 'koa2'
import Koa3 from 'koa3'
import { type TelemeterKoaOptions, telemeterKoa } from '../src/index.js'

export const APP_KEY = 'KOA_APP_KEY'

/** The Koa majors every integration test runs on. */
export const KOA_VERSIONS: readonly (readonly [string, typeof Koa])[] = [
  ['Koa 2', Koa2],
  ['Koa 3', Koa3],
]

export interface Harness {
  server: TestServer
  telemeter: Telemeter
  app: Koa
  /** Warnings the Telemeter logged (it runs with a debug logger). */
  warnings: string[]
  /** `http://127.0.0.1:<port>` of the Koa app. */
  base: string
  /** Deliver everything recorded so far to the test server. */
  flush(): Promise<void>
  close(): Promise<void>
}

export interface HarnessOptions {
  options?: TelemeterKoaOptions
  /** Routes and middleware after telemeterKoa. */
  routes(app: Koa): void
  /** Runs before `app.use(telemeterKoa(...))`. */
  before?(app: Koa): void
}

/** A testkit server, a Telemeter sending to it, and a Koa app with telemeterKoa first, on loopback. */
export async function startApp(KoaClass: typeof Koa, setup: HarnessOptions): Promise<Harness> {
  const server = await startTestServer({ appKey: APP_KEY, sessionCooldownS: 0 })
  const warnings: string[] = []
  const quiet = () => {}
  const telemeter = createTelemeter({
    url: server.url,
    appKey: APP_KEY,
    storage: 'memory',
    deviceId: 'koa-server',
    appVersion: '1.2.3',
    sessions: 'manual',
    flushIntervalMs: 50,
    debug: {
      debug: quiet,
      info: quiet,
      warn: (line) => warnings.push(line),
      error: (line) => warnings.push(line),
    },
  })
  const app = new KoaClass()
  // Koa logs errors to stderr unless the app listens; tests that need the default add nothing here.
  app.silent = true
  setup.before?.(app)
  app.use(telemeterKoa(telemeter, setup.options))
  setup.routes(app)
  const http: Server = app.listen(0, '127.0.0.1')
  await new Promise<void>((resolve) => http.once('listening', () => resolve()))
  const { port } = http.address() as AddressInfo
  return {
    server,
    telemeter,
    app,
    warnings,
    base: `http://127.0.0.1:${port}`,
    flush: () => telemeter.flush(),
    async close() {
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
      await telemeter.shutdown({ timeoutMs: 1_000 })
      await server.close()
    },
  }
}

/** Wait until the test server holds `count` network traces (errors and sessions are sent before traces). */
export async function tracesReceived(h: Harness, count: number): Promise<void> {
  await h.flush()
  await h.server.waitFor((s) => s.traces({ type: 'network' }).length >= count, 10_000)
}

export interface Reply {
  status: number
  body: Buffer
  headers: Headers
}

/** One request to the Koa app; the whole body is read. */
export async function send(h: Harness, path: string, init?: RequestInit): Promise<Reply> {
  const response = await fetch(`${h.base}${path}`, init)
  const body = Buffer.from(await response.arrayBuffer())
  return { status: response.status, body, headers: response.headers }
}

/** The one network trace of `name`, after checking the fields every trace has. */
export function traceNamed(h: Harness, name: string) {
  const traces = h.server.traces({ type: 'network', name })
  if (traces.length !== 1) {
    const names = h.server.traces({ type: 'network' }).map((t) => t.name)
    throw new Error(`expected one trace "${name}", got ${traces.length}; received: ${JSON.stringify(names)}`)
  }
  const trace = traces[0]!
  const { response_time: responseTime } = trace.metrics
  if (!Number.isInteger(responseTime) || responseTime! < 0)
    throw new Error(`bad response_time ${responseTime}`)
  if (!(trace.stz <= trace.etz)) throw new Error(`stz ${trace.stz} after etz ${trace.etz}`)
  return trace
}
