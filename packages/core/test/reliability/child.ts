import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { TestServer } from '@telemeter/testkit'
import type { DropReason, TelemeterConfig, TelemeterStats } from '../../src/index.js'
import { APP_KEY, onCleanup } from '../helpers.js'
import type { Ledger } from './support.js'

const DRIVER = fileURLToPath(new URL('./fixtures/driver.mjs', import.meta.url))

/** What `fixtures/driver.mjs` is told to do. */
export interface DriverSpec {
  /** `record`: `batch` events every `everyMs` (until `total`, else until SIGTERM/SIGKILL); `load`: `total` as fast as possible; `drain`: deliver what storage holds. */
  mode: 'record' | 'load' | 'drain'
  /** Prefix of event ids and device ids: unique per process life. */
  prefix: string
  config: Partial<TelemeterConfig>
  devices?: number
  batch?: number
  everyMs?: number
  total?: number
  slice?: number
  shutdownTimeoutMs?: number
}

export interface DriverDone {
  recorded: number
  shutdownMs: number
  stats: TelemeterStats
  peakRss: number
  peakHeap: number
  maxRss: number
  /** Largest heap in use right after a full GC (sampled every second). */
  liveHeap: number
  recordMs?: number
  recordCpuMs?: number
}

export interface Driver {
  child: ChildProcess
  /** Events recorded so far, with the time each progress line arrived. */
  progress: { at: number; n: number }[]
  drops: { reason: DropReason; requests: number; events: number; ids: string[] }[]
  shutdown: Promise<{ ms: number; listenerMs: number; recorded: number; at: number }>
  done: Promise<DriverDone>
  /** Resolves with the exit code and signal. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Lines Telemeter logged to stdout (`[telemeter] …`). */
  logs: string[]
  stderr: () => string
}

/** Start `fixtures/driver.mjs` against `server`; drops it reports go to `ledger` as they arrive. */
export function startDriver(server: TestServer, spec: DriverSpec, ledger?: Ledger): Driver {
  const child = spawn(
    process.execPath,
    ['--expose-gc', DRIVER, JSON.stringify({ url: server.url, appKey: APP_KEY, ...spec })],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const progress: Driver['progress'] = []
  const drops: Driver['drops'] = []
  let resolveShutdown: (value: { ms: number; listenerMs: number; recorded: number; at: number }) => void =
    () => {}
  let resolveDone: (value: DriverDone) => void = () => {}
  let fail: (error: Error) => void = () => {}
  const shutdown = new Promise<{ ms: number; listenerMs: number; recorded: number; at: number }>(
    (resolve, reject) => {
      resolveShutdown = resolve
      fail = reject
    },
  )
  const done = new Promise<DriverDone>((resolve, reject) => {
    resolveDone = resolve
    const previous = fail
    fail = (error) => {
      previous(error)
      reject(error)
    }
  })
  // A child that dies before saying it is done fails the waiting test instead of hanging it.
  shutdown.catch(() => {})
  done.catch(() => {})
  let buffer = ''
  let errors = ''
  const logs: string[] = []
  child.stderr!.on('data', (chunk: Buffer) => {
    errors += chunk.toString()
  })
  child.stdout!.on('data', (chunk: Buffer) => {
    const at = Date.now()
    buffer += chunk.toString()
    const lines = buffer.split('\n')
    buffer = lines.pop()!
    for (const line of lines) {
      // Telemeter's own log lines (warnings, notices) go to the console too.
      if (!line.startsWith('{')) {
        logs.push(line)
        continue
      }
      const message = JSON.parse(line) as { t: string } & Record<string, unknown>
      if (message.t === 'rec') progress.push({ at, n: message.n as number })
      else if (message.t === 'drop') {
        const drop = message as unknown as Driver['drops'][number]
        drops.push(drop)
        ledger?.noteDrop(drop, drop.ids)
      } else if (message.t === 'shutdown')
        resolveShutdown({
          ...(message as unknown as { ms: number; listenerMs: number; recorded: number }),
          at,
        })
      else if (message.t === 'done') resolveDone(message as never)
    }
  })
  const exit = once(child, 'exit').then(([code, signal]) => {
    fail(new Error(`driver exited (${code ?? signal}) before it was done: ${errors.slice(-2_000)}`))
    return { code: code as number | null, signal: signal as NodeJS.Signals | null }
  })
  return { child, progress, drops, logs, shutdown, done, exit, stderr: () => errors }
}

/** Events recorded (as the child said) by `at`. */
export function recordedBy(driver: Driver, at: number): number {
  return driver.progress.filter((p) => p.at <= at).at(-1)?.n ?? 0
}

/** Events the child said it recorded, in total. */
export function recordedTotal(driver: Driver): number {
  return driver.progress.at(-1)?.n ?? 0
}

/** Resolve once the child recorded something; reject (with its stderr) if it does not within `ms`. */
export async function started(driver: Driver, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (driver.progress.length === 0) {
    if (Date.now() > deadline || driver.child.exitCode !== null)
      throw new Error(`driver did not start recording: ${driver.stderr().slice(-2_000)}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
