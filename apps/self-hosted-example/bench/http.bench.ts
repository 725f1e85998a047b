/**
 * What product telemetry costs a self-hosted server: the Notes app under
 * `POST /api/notes` load (each request counts `note.created`; with `users`
 * it also records the user's own event under a hashed id), against the same
 * app with `DO_NOT_TRACK=1` as the baseline. File storage, as in production.
 *
 * The server runs in a child process pinned to core 0; autocannon and the
 * testkit server share core 1. Each round runs every variant once, in an
 * order that rotates between rounds; ratios are taken within a round.
 *
 * Environment: ROUNDS (3), DURATION_S (8), WARMUP_S (2), CONNECTIONS (50),
 * VARIANTS (off,counts,users), RESULTS (bench/RESULTS.md; '' to skip writing).
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { startTestServer } from '@telemeter/testkit'
import autocannon from 'autocannon'

const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback)
const ROUNDS = env('ROUNDS', 3)
const DURATION_S = env('DURATION_S', 8)
const WARMUP_S = env('WARMUP_S', 2)
const CONNECTIONS = env('CONNECTIONS', 50)
const VARIANTS = (process.env.VARIANTS ?? 'off,counts,users').split(',')
const RESULTS = process.env.RESULTS ?? fileURLToPath(new URL('./RESULTS.md', import.meta.url))

interface Report {
  handled: number
  cpuMs: number
  stats: { sent: number; dropped: number; queued: number }
}
interface Run {
  variant: string
  rps: number
  p99: number
  errors: number
  cpuMsPerRequest: number
  report: Report
}

const taskset = (() => {
  if (os.cpus().length < 2) return false
  try {
    execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

function startServer(variant: string, url: string): Promise<{ child: ChildProcess; url: string }> {
  const script = fileURLToPath(new URL('./server.ts', import.meta.url))
  const nodeArgs = ['--import', 'tsx']
  const child = fork(script, [variant], {
    env: { ...process.env, TELEMETER_URL: url, CI: '' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    ...(taskset
      ? { execPath: 'taskset', execArgv: ['-c', '0', process.execPath, ...nodeArgs] }
      : { execArgv: nodeArgs }),
  })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('message', (message: { type: string; url: string }) => resolve({ child, url: message.url }))
  })
}

function stopServer(child: ChildProcess): Promise<Report> {
  return new Promise((resolve) => {
    child.on('message', (message: { type: string; report: Report }) => {
      if (message.type === 'report') resolve(message.report)
    })
    child.send({ type: 'stop' })
  })
}

async function load(url: string, durationS: number) {
  return autocannon({
    url: `${url}/api/notes`,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user': 'bench-user' },
    body: JSON.stringify({ text: 'a note' }),
    connections: CONNECTIONS,
    duration: durationS,
  })
}

async function run(variant: string, countlyUrl: string): Promise<Run> {
  const { child, url } = await startServer(variant, countlyUrl)
  await load(url, WARMUP_S)
  const result = await load(url, DURATION_S)
  const report = await stopServer(child)
  return {
    variant,
    rps: result.requests.average,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
    cpuMsPerRequest: report.cpuMs / Math.max(1, report.handled),
    report,
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

/** CPU per API call, in a child process pinned to core 0. */
function measureCalls(): Promise<{ calls: number; results: Record<string, number> }> {
  const script = fileURLToPath(new URL('./calls.ts', import.meta.url))
  const nodeArgs = ['--import', 'tsx']
  const child = fork(script, [], {
    env: { ...process.env, CI: '' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    ...(taskset
      ? { execPath: 'taskset', execArgv: ['-c', '0', process.execPath, ...nodeArgs] }
      : { execArgv: nodeArgs }),
  })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('message', (message: { calls: number; results: Record<string, number> }) => resolve(message))
  })
}

const calls = await measureCalls()
const eventNs = calls.results['telemeter.event'] ?? Number.NaN
for (const [name, ns] of Object.entries(calls.results))
  process.stdout.write(
    `${name.padEnd(22)} ${ns.toFixed(0)} ns CPU/call  (${(ns / eventNs).toFixed(2)} x telemeter.event)\n`,
  )

const countly = await startTestServer({ appKey: 'BENCH_APP_KEY' })
const rounds: Run[][] = []
for (let round = 0; round < ROUNDS; round++) {
  const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]!)
  const runs: Run[] = []
  for (const variant of order) {
    const result = await run(variant, countly.url)
    process.stdout.write(
      `round ${round + 1} ${variant.padEnd(6)} ${result.rps.toFixed(0)} req/s  p99 ${result.p99} ms  ` +
        `${(result.cpuMsPerRequest * 1000).toFixed(1)} µs CPU/request  errors ${result.errors}  ` +
        `sent ${result.report.stats.sent} dropped ${result.report.stats.dropped}\n`,
    )
    runs.push(result)
  }
  rounds.push(runs)
}
const violations = countly.violations.length
await countly.close()

const byVariant = (variant: string, pick: (run: Run) => number) =>
  median(rounds.map((runs) => pick(runs.find((run) => run.variant === variant)!)))
const ratio = (variant: string, pick: (run: Run) => number) =>
  median(
    rounds.map(
      (runs) =>
        pick(runs.find((run) => run.variant === variant)!) / pick(runs.find((run) => run.variant === 'off')!),
    ),
  )
const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
const spread = (variant: string) => {
  const rps = rounds.map((runs) => runs.find((run) => run.variant === variant)!.rps)
  return `${Math.min(...rps).toFixed(0)}–${Math.max(...rps).toFixed(0)}`
}
const lines = [
  '# Self-hosted example: cost of product telemetry under HTTP load',
  '',
  `Machine: ${cpu}, ${os.cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}` +
    `${taskset ? '; server pinned to core 0, autocannon and testkit on core 1' : ''}; ` +
    `load average at the end ${os.loadavg()[0]!.toFixed(1)} (a shared machine).`,
  `Load: POST /api/notes, ${CONNECTIONS} connections, ${DURATION_S} s after ${WARMUP_S} s warm-up, ${ROUNDS} rounds (medians; ratios within a round).`,
  '',
  '| variant | req/s | range over rounds | vs off | p99 ms | CPU µs / request | vs off |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...VARIANTS.map(
    (variant) =>
      `| ${variant} | ${byVariant(variant, (r) => r.rps).toFixed(0)} | ${spread(variant)} | ${ratio(variant, (r) => r.rps).toFixed(3)} | ` +
      `${byVariant(variant, (r) => r.p99)} | ${(byVariant(variant, (r) => r.cpuMsPerRequest) * 1000).toFixed(1)} | ` +
      `${ratio(variant, (r) => r.cpuMsPerRequest).toFixed(3)} |`,
  ),
  '',
  '`off`: `DO_NOT_TRACK=1` (the calls are made, telemetry is off). `counts`: `instance.count()` per request,',
  'users not identified. `users`: also `forDevice(user).event()` with hashed identifiers.',
  `Errors: ${rounds.flat().reduce((sum, r) => sum + r.errors, 0)}; protocol violations at the testkit: ${violations}.`,
  '',
  `## CPU per call (${calls.calls} calls, median of 7, one process pinned to core 0)`,
  '',
  '| call | ns CPU / call | vs telemeter.event |',
  '| --- | --- | --- |',
  ...Object.entries(calls.results).map(
    ([name, ns]) => `| \`${name}\` | ${ns.toFixed(0)} | ${(ns / eventNs).toFixed(2)} |`,
  ),
  '',
  '`telemeter.event()` is the baseline: the core recording path (an event queued for batching).',
  '`instance.count()` adds to a per-day counter in memory (written to storage at most once per event-loop turn).',
  '',
]
process.stdout.write(`\n${lines.join('\n')}`)
if (RESULTS) writeFileSync(RESULTS, lines.join('\n'))
