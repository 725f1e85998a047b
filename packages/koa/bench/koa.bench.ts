/**
 * Bare Koa vs Koa + Telemeter vs Koa + the official countly-sdk-nodejs, on
 * `GET /users/:id` (@koa/router, JSON body) at 50 connections over loopback.
 *
 * The server under test runs in a child process pinned to core 0; this runner
 * (autocannon) and the testkit server share core 1. Every round runs each
 * variant once, in an order that alternates between rounds, and ratios are
 * taken within a round. Per run: a warm-up; a fixed-rate run (server CPU and
 * the longest event-loop stall at FIXED_RATE req/s); a throughput run (req/s,
 * and the server's CPU time per request under full load); then the server
 * delivers what it queued and the testkit counts the traces it accepted. The
 * backlog is drained between phases, so one phase's delivery does not load
 * the next.
 *
 * Two ratios per variant: req/s against bare Koa in the same round, and the
 * server capacity ratio (bare's CPU time per request / the variant's), which
 * does not depend on whether the server or the load generator saturates first.
 *
 * Environment: ROUNDS (3), DURATION_S (10), WARMUP_S (3), CONNECTIONS (50),
 * FIXED_RATE (1000 req/s), FIXED_S (5), VARIANTS (bare,telemeter,countly), KOA (koa, koa2).
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'

const APP_KEY = 'BENCH_APP_KEY'
const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback)
const ROUNDS = env('ROUNDS', 3)
const DURATION_S = env('DURATION_S', 10)
const WARMUP_S = env('WARMUP_S', 3)
const CONNECTIONS = env('CONNECTIONS', 50)
const FIXED_RATE = env('FIXED_RATE', 1000)
const FIXED_S = env('FIXED_S', 5)
const VARIANTS = (process.env.VARIANTS ?? 'bare,telemeter,countly').split(',')
const KOA = process.env.KOA ?? 'koa'

interface Window {
  cpuPercent: number
  cpuMs: number
  requests: number
  stallMaxMs: number
}
interface ServerReport {
  handled: number
  peakRss: number
  stats?: { dropped: number }
  drainMs: number
}
interface Run {
  variant: string
  rps: number
  p99: number
  /** Server CPU time per request under full load, µs. */
  cpuPerRequestUs: number
  delivered: number
  dropped: number
  drainS: number
  peakRssMb: number
  fixedCpuPercent: number
  fixedStallMs: number
  violations: number
  load: number
}

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url))
const cores = os.cpus().length
const pinning = (() => {
  if (cores < 2) return false
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

function message<T>(child: ChildProcess, send?: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`child exited with ${code}`))
    child.once('exit', onExit)
    child.once('message', (value) => {
      child.off('exit', onExit)
      resolve(value as T)
    })
    if (send !== undefined) child.send(send)
  })
}

function startChild(script: string, args: string[], core: number): ChildProcess {
  const stdio: ['ignore', 'inherit', 'inherit', 'ipc'] = ['ignore', 'inherit', 'inherit', 'ipc']
  // `taskset -c N node script` pins the child; the IPC channel survives the exec.
  if (pinning)
    return fork(here(script), args, {
      execPath: 'taskset',
      execArgv: ['-c', String(core), process.execPath],
      stdio,
    })
  return fork(here(script), args, { stdio })
}

const load = (url: string, seconds: number, rate?: number) =>
  autocannon({ url, connections: CONNECTIONS, duration: seconds, ...(rate ? { overallRate: rate } : {}) })

async function runOnce(variant: string, testkit: ChildProcess, testkitUrl: string): Promise<Run> {
  await message(testkit, 'reset')
  const server = startChild('./server.mjs', [variant, testkitUrl, APP_KEY, KOA], 0)
  const { port } = await message<{ port: number }>(server)
  const url = `http://127.0.0.1:${port}/users/42`
  const loadAverage = os.loadavg()[0] ?? 0
  await load(url, WARMUP_S)
  await message(server, 'drain')
  await message(server, 'window-start')
  await load(url, FIXED_S, FIXED_RATE)
  const fixed = await message<Window>(server, 'window-stop')
  await message(server, 'drain')
  await message(server, 'window-start')
  const result = await load(url, DURATION_S)
  const full = await message<Window>(server, 'window-stop')
  const report = await message<ServerReport>(server, 'stop')
  const counted = await message<{ traces: number; violations: number; firstViolation?: string }>(
    testkit,
    'count',
  )
  if (counted.violations > 0) console.warn(`  ${variant}: protocol violation: ${counted.firstViolation}`)
  return {
    variant,
    rps: result.requests.average,
    p99: result.latency.p99,
    cpuPerRequestUs: (full.cpuMs * 1000) / full.requests,
    delivered: variant === 'bare' ? Number.NaN : counted.traces / report.handled,
    dropped: report.stats?.dropped ?? 0,
    drainS: report.drainMs / 1000,
    peakRssMb: report.peakRss / 1024 / 1024,
    fixedCpuPercent: fixed.cpuPercent,
    fixedStallMs: fixed.stallMaxMs,
    violations: counted.violations,
    load: (loadAverage + (os.loadavg()[0] ?? 0)) / 2,
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}
const num = (value: number, digits = 0) => (Number.isNaN(value) ? '-' : value.toFixed(digits))

function describeRun(round: number, run: Run): string {
  return [
    `round ${round} ${run.variant.padEnd(18)}`,
    `${num(run.rps).padStart(6)} req/s`,
    `${num(run.cpuPerRequestUs, 1).padStart(6)} µs CPU/req`,
    `p99 ${run.p99} ms`,
    `delivered ${num(run.delivered * 100, 2)} % (dropped ${run.dropped}, drained in ${num(run.drainS, 1)} s)`,
    `peak RSS ${num(run.peakRssMb)} MB`,
    `CPU@${FIXED_RATE} ${num(run.fixedCpuPercent, 1)} %`,
    `stall ${num(run.fixedStallMs, 1)} ms`,
    `load ${num(run.load, 1)}`,
  ].join('  ')
}

function summarize(rounds: Run[][]): string[] {
  const lines = [
    '| variant | req/s (median) | vs bare, same round (median; each round) | server CPU per request under load | capacity vs bare (bare CPU/req ÷ variant CPU/req, median) | traces delivered (worst run) | peak RSS | server CPU at 1,000 req/s | longest stall at 1,000 req/s |',
    '|---|---|---|---|---|---|---|---|---|',
  ]
  for (const variant of VARIANTS) {
    const runs = rounds.map((round) => round.find((run) => run.variant === variant) as Run)
    const sameRound = (pick: (bare: Run, mine: Run) => number) =>
      rounds.map((round) => {
        const bare = round.find((run) => run.variant === 'bare')
        const mine = round.find((run) => run.variant === variant)
        return bare && mine ? pick(bare, mine) : Number.NaN
      })
    const ratios = sameRound((bare, mine) => mine.rps / bare.rps)
    const capacity = sameRound((bare, mine) => bare.cpuPerRequestUs / mine.cpuPerRequestUs)
    const delivered = Math.min(...runs.map((run) => run.delivered))
    lines.push(
      `| ${variant} | ${num(median(runs.map((run) => run.rps)))} | ${num(median(ratios), 2)}x (${ratios.map((r) => num(r, 2)).join(', ')}) | ${num(median(runs.map((run) => run.cpuPerRequestUs)), 1)} µs | ${num(median(capacity), 2)}x | ${variant === 'bare' ? '-' : `${num(delivered * 100, 2)} %`} | ${num(Math.max(...runs.map((run) => run.peakRssMb)))} MB | ${num(median(runs.map((run) => run.fixedCpuPercent)), 1)} % | ${num(Math.max(...runs.map((run) => run.fixedStallMs)), 1)} ms |`,
    )
  }
  return lines
}

async function main(): Promise<void> {
  if (pinning) execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' })
  const testkit = startChild('./testkit.mjs', [APP_KEY], 1)
  const { url: testkitUrl } = await message<{ url: string }>(testkit)
  const rounds: Run[][] = []
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()
    const runs: Run[] = []
    for (const variant of order) {
      const run = await runOnce(variant, testkit, testkitUrl)
      runs.push(run)
      console.log(describeRun(round + 1, run))
    }
    rounds.push(runs)
  }
  await message(testkit, 'close').catch(() => {})
  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${cores} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`
  console.log(
    `\n${machine}; ${KOA}; ${CONNECTIONS} connections; ${DURATION_S} s x ${ROUNDS} rounds${pinning ? '; server pinned to core 0, load generator and testkit on core 1' : ''}\n`,
  )
  for (const line of summarize(rounds)) console.log(line)
}

await main()
