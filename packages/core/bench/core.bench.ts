/**
 * @telemeter/core vs the official countly-sdk-nodejs (24.10.4), same work,
 * same script. Every step runs in a fresh child process (`--expose-gc`, pinned
 * to core 1) against a @telemeter/testkit server in this process (core 0):
 *
 * 1. record: 100,000 custom events (small segmentation, 100 per macrotask)
 *    with the server down, until they are on disk: CPU per event (net of the
 *    same loop without an SDK), disk bytes written vs payload, the longest
 *    event-loop stall, heap per queued event.
 * 2. drain: 10,000 queued requests (one event for each of 10,000 devices)
 *    prepared while the server was down; time until the server has them all.
 * 3. kill -9: record continuously, SIGKILL at a random moment, restart and
 *    deliver; share of the events recorded more than one flush interval
 *    before the kill that never arrived.
 *
 * Environment: RECORD_EVENTS (100000), RECORD_RUNS (3, Telemeter; the official
 * SDK runs once, capped), RECORD_CAP_S (30), DRAIN_REQUESTS (10000),
 * DRAIN_CAP_S (20), BULK_CAP_S (15), KILL_RUNS (5), SDKS (telemeter,countly),
 * STEPS (record,drain,kill), RESULTS (file to write; bench/RESULTS.md for a
 * full run, '' never), BENCH_CORE_ENTRY ('@telemeter/core', i.e. the build;
 * '../src/index.ts' runs the sources).
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startTestServer, type TestServer } from '@telemeter/testkit'
import { KILL_DRAIN_CAP_MS, payloadBytes, sleep } from './measure.js'
import { type Figures, netMicros, renderResults } from './report.js'
import { APP_KEY, FLUSH_INTERVAL_MS, type SdkName } from './subjects.js'
import type { RecordResult, StepOptions } from './worker.js'

const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback)
const RECORD_EVENTS = env('RECORD_EVENTS', 100_000)
const RECORD_RUNS = env('RECORD_RUNS', 3)
const RECORD_CAP_MS = env('RECORD_CAP_S', 30) * 1000
const DRAIN_REQUESTS = env('DRAIN_REQUESTS', 10_000)
const DRAIN_CAP_MS = env('DRAIN_CAP_S', 20) * 1000
const BULK_CAP_MS = env('BULK_CAP_S', 15) * 1000
const KILL_RUNS = env('KILL_RUNS', 5)
const SDKS = new Set((process.env.SDKS ?? 'telemeter,countly').split(','))
const STEPS = new Set((process.env.STEPS ?? 'record,drain,kill').split(','))
const FULL_RUN = ['telemeter', 'countly'].every((sdk) => SDKS.has(sdk)) && STEPS.size === 3
const RESULTS =
  process.env.RESULTS ?? (FULL_RUN ? fileURLToPath(new URL('./RESULTS.md', import.meta.url)) : '')

const packageDir = fileURLToPath(new URL('..', import.meta.url))
const workerPath = fileURLToPath(new URL('./worker.ts', import.meta.url))
const cores = os.cpus().length
const pinned = (() => {
  if (cores < 2) return false
  try {
    execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

const tempDirs: string[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(os.tmpdir(), 'telemeter-bench-'))
  tempDirs.push(dir)
  return dir
}

type WorkerMessage =
  | { type: 'result'; result: unknown }
  | { type: 'start'; at: number }
  | { type: 'recorded'; from: number; to: number; at: number }
  | { type: 'stats'; stats: unknown }
  | { type: 'cpu'; cpuMicros: number }

/** A worker step in a fresh process: `--expose-gc`, tsx like this process, pinned to core 1. */
function startWorker(step: string, sdk: SdkName, options: Partial<StepOptions>): ChildProcess {
  const args = [step, sdk, JSON.stringify(options)]
  const nodeArgs = [...process.execArgv, '--expose-gc']
  return fork(workerPath, args, {
    cwd: packageDir,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    ...(pinned
      ? { execPath: 'taskset', execArgv: ['-c', '1', process.execPath, ...nodeArgs] }
      : { execArgv: nodeArgs }),
  })
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

function nextMessage<T extends WorkerMessage['type']>(
  child: ChildProcess,
  type: T,
): Promise<Extract<WorkerMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`worker exited (${code}) before '${type}'`))
    const onMessage = (message: WorkerMessage) => {
      if (message.type !== type) return
      child.off('message', onMessage)
      child.off('exit', onExit)
      resolve(message as Extract<WorkerMessage, { type: T }>)
    }
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}

async function runStep<T>(step: string, sdk: SdkName, options: Partial<StepOptions>): Promise<T> {
  const child = startWorker(step, sdk, options)
  const { result } = await nextMessage(child, 'result')
  await exited(child)
  return result as T
}

const log = (line: string) => console.log(`[bench] ${line}`)

// ---------------------------------------------------------------- 1. record

async function recordStep(server: TestServer, sdk: SdkName): Promise<RecordResult> {
  server.setFault({ type: 'down' })
  const dir = tempDir()
  const result = await runStep<RecordResult>('record', sdk, {
    url: server.url,
    dir,
    count: RECORD_EVENTS,
    chunk: 100,
    capMs: RECORD_CAP_MS,
  })
  rmSync(dir, { recursive: true, force: true })
  server.setFault(null)
  const net = netMicros(result) / RECORD_EVENTS
  log(
    `record ${sdk}: ${result.persisted ? 'on disk' : 'NOT settled'} after ${result.windowMs} ms (recording ${result.recordMs} ms), ${net.toFixed(2)} µs CPU/event net, ${(result.writeBytes / 1e6).toFixed(1)} MB written, stall ${result.stallOwnMs.toFixed(1)} ms own / ${result.stallMs.toFixed(1)} ms wall (longest GC pause ${result.gcPauseMs.toFixed(1)} ms), ${(result.heapBytes / RECORD_EVENTS).toFixed(0)} B heap/event, ${result.storedEvents} events in storage`,
  )
  return result
}

// ---------------------------------------------------------------- 2. drain

interface DrainResult {
  received: number
  elapsedMs: number
  firstMs: number
  prepared: number
  sdkCpuMs: number
  serverCpuMs: number
}

/** Wait until `target` items of the prepared devices were processed, or the deadline. */
async function countDevices(server: TestServer, startAt: number, target: number, capMs: number) {
  let index = 0
  let received = 0
  let firstAt = 0
  let lastAt = startAt
  const deadline = startAt + capMs
  while (received < target && Date.now() < deadline) {
    await sleep(10)
    for (; index < server.items.length; index++) {
      const item = server.items[index]!
      if (item.outcome !== 'processed' || !item.device_id?.startsWith('device-')) continue
      received++
      firstAt ||= item.receivedAt
      lastAt = item.receivedAt
    }
  }
  return { received, elapsedMs: received >= target ? lastAt - startAt : capMs, firstMs: firstAt - startAt }
}

async function drainStep(server: TestServer, sdk: SdkName, mode: 'main' | 'bulk'): Promise<DrainResult> {
  const dir = tempDir()
  let prepared = DRAIN_REQUESTS
  if (mode === 'main') {
    server.setFault({ type: 'down' })
    const result = await runStep<{ queued: number }>('prepare-drain', sdk, {
      url: server.url,
      dir,
      count: DRAIN_REQUESTS,
    })
    prepared = result.queued
    server.setFault(null)
  }
  server.reset()
  const capMs = sdk === 'telemeter' ? 60_000 : mode === 'bulk' ? BULK_CAP_MS : DRAIN_CAP_MS
  const child = startWorker(mode === 'bulk' ? 'drain-bulk' : 'drain', sdk, {
    url: server.url,
    dir,
    count: DRAIN_REQUESTS,
    capMs: capMs + 5_000,
  })
  const { at } = await nextMessage(child, 'start')
  const serverCpu0 = process.cpuUsage()
  const counted = await countDevices(server, at, DRAIN_REQUESTS, capMs)
  const serverCpu = process.cpuUsage(serverCpu0)
  child.send('stop')
  const { cpuMicros } = await nextMessage(child, 'cpu')
  await exited(child)
  rmSync(dir, { recursive: true, force: true })
  const rate = counted.received / (counted.elapsedMs / 1000)
  log(
    `drain ${sdk}${mode === 'bulk' ? ' (CountlyBulk)' : ''}: ${prepared} queued, ${counted.received} received in ${counted.elapsedMs} ms (first after ${counted.firstMs} ms), ${rate.toFixed(1)} requests/s; CPU: SDK process ${(cpuMicros / 1000).toFixed(0)} ms, test server ${((serverCpu.user + serverCpu.system) / 1000).toFixed(0)} ms`,
  )
  return {
    ...counted,
    prepared,
    sdkCpuMs: cpuMicros / 1000,
    serverCpuMs: (serverCpu.user + serverCpu.system) / 1000,
  }
}

// ---------------------------------------------------------------- 3. kill -9

export interface KillRun {
  recorded: number
  /** Recorded more than one flush interval before the kill. */
  old: number
  /** Old events neither delivered nor still held by the restarted process. */
  lost: number
  /** Old events not delivered within the drain cap but still queued by the restarted process. */
  held: number
  duplicates: number
  killAfterMs: number
}

async function killStep(server: TestServer, sdk: SdkName, run: number): Promise<KillRun> {
  const dir = tempDir()
  const key = `kill_${sdk}_${run}`
  const batches: { from: number; to: number; at: number }[] = []
  const child = startWorker('kill-record', sdk, { url: server.url, dir, key })
  child.on('message', (message: WorkerMessage) => {
    if (message.type === 'recorded') batches.push(message)
  })
  const first = await nextMessage(child, 'recorded')
  await sleep(1_500 + Math.random() * 2_000)
  const killAt = Date.now()
  child.kill('SIGKILL')
  await exited(child)
  const drained = await runStep<{ backlog: number; held: number[] }>('kill-drain', sdk, {
    url: server.url,
    dir,
    capMs: KILL_DRAIN_CAP_MS,
  })
  const held = new Set(drained.held)
  await sleep(200)
  rmSync(dir, { recursive: true, force: true })
  const arrived = new Map<number, number>()
  for (const event of server.events({ key })) {
    const seq = Number(event.segmentation.seq)
    arrived.set(seq, (arrived.get(seq) ?? 0) + 1)
  }
  let old = 0
  let lost = 0
  let stillHeld = 0
  for (const batch of batches) {
    if (batch.at >= killAt - FLUSH_INTERVAL_MS) continue
    for (let seq = batch.from; seq < batch.to; seq++) {
      old++
      if (arrived.has(seq)) continue
      if (held.has(seq)) stillHeld++
      else lost++
    }
  }
  let duplicates = 0
  for (const times of arrived.values()) duplicates += times - 1
  const recorded = batches.at(-1)?.to ?? 0
  log(
    `kill ${sdk} #${run}: killed after ${killAt - first.at} ms, ${recorded} recorded, ${old} older than ${FLUSH_INTERVAL_MS} ms: ${lost} lost, ${stillHeld} still queued after the ${KILL_DRAIN_CAP_MS / 1000} s drain; ${duplicates} duplicates`,
  )
  return { recorded, old, lost, held: stillHeld, duplicates, killAfterMs: killAt - first.at }
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const started = Date.now()
  const load = os.loadavg()[0]!.toFixed(2)
  const machine = `${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cores} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)} (load average ${load} at start${pinned ? '; server on core 0, SDK processes on core 1' : ''})`
  log(machine)
  const server = await startTestServer({ appKey: APP_KEY })
  try {
    const figures: Figures = {
      machine,
      events: RECORD_EVENTS,
      payload: payloadBytes(RECORD_EVENTS),
      record: { telemeter: [], countly: [] },
      drain: { telemeter: undefined, countly: undefined, bulk: undefined },
      kill: { telemeter: [], countly: [] },
      violations: { telemeter: 0, countly: 0 },
      caps: { record: RECORD_CAP_MS, drain: DRAIN_CAP_MS, bulk: BULK_CAP_MS },
      requests: DRAIN_REQUESTS,
    }
    const telemeter = SDKS.has('telemeter')
    const countly = SDKS.has('countly')
    const steps = { record: STEPS.has('record'), drain: STEPS.has('drain'), kill: STEPS.has('kill') }
    if (telemeter && steps.record) {
      for (let run = 0; run < RECORD_RUNS; run++)
        figures.record.telemeter.push(await recordStep(server, 'telemeter'))
    }
    if (countly && steps.record) figures.record.countly.push(await recordStep(server, 'countly'))

    if (telemeter && steps.drain) {
      figures.drain.telemeter = await drainStep(server, 'telemeter', 'main')
      figures.violations.telemeter += server.violations.length
    }
    if (countly && steps.drain) {
      figures.drain.countly = await drainStep(server, 'countly', 'main')
      figures.violations.countly += server.violations.length
      figures.drain.bulk = await drainStep(server, 'countly', 'bulk')
      figures.violations.countly += server.violations.length
    }

    for (const sdk of ['telemeter', 'countly'] as const) {
      if (!SDKS.has(sdk) || !steps.kill) continue
      server.reset()
      for (let run = 1; run <= KILL_RUNS; run++) figures.kill[sdk].push(await killStep(server, sdk, run))
      figures.violations[sdk] += server.violations.length
    }

    const text = renderResults(figures, Date.now() - started)
    console.log(`\n${text}`)
    if (RESULTS) {
      writeFileSync(RESULTS, text)
      log(`written to ${RESULTS}`)
    }
  } finally {
    const closed = await Promise.race([server.close().then(() => true), sleep(3_000).then(() => false)])
    if (!closed) log('the test server did not close within 3 s (left open)')
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
  }
}

await main()
// Workers are gone; do not wait for sockets the test server may still hold.
process.exit(0)
