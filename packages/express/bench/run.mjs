// Express + Telemeter overhead, against bare Express and the alternatives.
//
//   pnpm --filter @telemeter/express bench        (BENCH_ROUNDS, BENCH_DURATION_S, BENCH_EXPRESS=4|5)
//
// Each variant serves `GET /users/:id` from its own process pinned to core 0;
// autocannon (this process) and the test server (a child) share core 1. Every
// round runs every variant, in a rotated order, and ratios are taken within a
// round, so drift of the machine between rounds cancels out. Loopback only,
// bounded in count and time.
import { spawn, spawnSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'

const here = (file) => fileURLToPath(new URL(file, import.meta.url))
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10)
const WARMUP_S = 3
const CONNECTIONS = 50
const FIXED_RATE = 1_000
const APP_KEY = 'BENCH_APP_KEY'
const VARIANTS = (process.env.BENCH_VARIANTS ?? 'bare,telemeter,telemeter-memory,sentry,otel,countly').split(
  ',',
)
const LABELS = {
  bare: 'bare Express',
  telemeter: 'Express + Telemeter (file queue, default)',
  'telemeter-memory': 'Express + Telemeter (memory queue)',
  sentry: 'Express + @sentry/node tracing',
  otel: 'Express + OpenTelemetry http/express (no-op exporter)',
  countly: 'Express + countly-sdk-nodejs report_trace',
  'telemeter-idle': 'Express, a Telemeter created, no middleware',
  'telemeter-disabled': 'Express + Telemeter middleware, kill switch on',
  'telemeter-unsampled': 'Express + Telemeter middleware, sampleRate 0',
}
const hasTaskset = spawnSync('taskset', ['-c', '1', 'true']).status === 0

// Load generator and test server on core 1, the server under test alone on core 0.
if (hasTaskset && !process.env.BENCH_PINNED) {
  const result = spawnSync('taskset', ['-c', '1', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_PINNED: '1' },
  })
  process.exit(result.status ?? 1)
}

function nextMessage(child, type) {
  return new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (message?.type !== type) return
      child.off('message', onMessage)
      child.off('exit', onExit)
      resolve(message)
    }
    const onExit = (code) => reject(new Error(`child exited (${code}) while waiting for ${type}`))
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}

async function ask(child, type, reply) {
  const answer = nextMessage(child, reply)
  child.send({ type })
  return answer
}

/**
 * Other work in the monorepo may rebuild packages while the benchmark runs:
 * run from a snapshot of the built Telemeter packages (taken under the build
 * lock), with the third-party packages linked in place.
 */
function snapshot() {
  const dir = mkdtempSync(join(tmpdir(), 'telemeter-express-bench-'))
  const modules = join(dir, 'node_modules')
  const packages = here('../..')
  const copy = ['core', 'testkit', 'express']
    .map((name) => {
      const target = join(modules, '@telemeter', name)
      return `mkdir -p ${target} && cp -r ${join(packages, name, 'package.json')} ${join(packages, name, 'dist')} ${target}/`
    })
    .join(' && ')
  const copied = spawnSync('flock', ['/tmp/telemeter-build.lock', 'sh', '-c', copy], { stdio: 'inherit' })
  if (copied.status !== 0) throw new Error('could not snapshot the built packages')
  const own = here('../node_modules')
  for (const name of [
    'express4',
    'express5',
    'autocannon',
    'countly-sdk-nodejs',
    '@sentry/node',
    ...readdirSync(join(own, '@opentelemetry')).map((n) => `@opentelemetry/${n}`),
  ]) {
    mkdirSync(dirname(join(modules, name)), { recursive: true })
    symlinkSync(realpathSync(join(own, name)), join(modules, name))
  }
  for (const file of ['server.cjs', 'testkit-server.mjs']) copyFileSync(here(`./${file}`), join(dir, file))
  return dir
}

let root = here('.')

function fork(script, args, env, core) {
  const command = hasTaskset && core !== undefined ? 'taskset' : process.execPath
  const profile = (process.env.BENCH_PROFILE ?? '').split(',').includes(args[0])
  const nodeArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${here('./profiles')}`] : []
  const argv = [...nodeArgs, join(root, script), ...args]
  const full = command === 'taskset' ? ['-c', String(core), process.execPath, ...argv] : argv
  return spawn(command, full, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
}

function load(port, overallRate) {
  return new Promise((resolve, reject) => {
    const options = {
      url: `http://127.0.0.1:${port}/users/42`,
      connections: CONNECTIONS,
      duration: DURATION_S,
      ...(overallRate ? { overallRate } : {}),
    }
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)))
  })
}

async function runVariant(testkit, variant, env, mode) {
  await ask(testkit, 'reset', 'reset')
  const server = fork('server.cjs', [variant], env, 0)
  const { port } = await nextMessage(server, 'ready')
  const rate = mode === 'fixed' ? FIXED_RATE : undefined
  await new Promise((resolve, reject) =>
    autocannon(
      {
        url: `http://127.0.0.1:${port}/users/42`,
        connections: CONNECTIONS,
        duration: WARMUP_S,
        ...(rate ? { overallRate: rate } : {}),
      },
      (error) => (error ? reject(error) : resolve()),
    ),
  )
  server.send({ type: 'start' })
  const result = await load(port, rate)
  const window = await ask(server, 'stop', 'stopped')
  const drained = await ask(server, 'drain', 'drained')
  const counted = await ask(testkit, 'count', 'count')
  server.send({ type: 'exit' })
  await new Promise((resolve) => server.once('exit', resolve))
  const delivered =
    variant === 'otel'
      ? drained.delivered
      : variant === 'sentry'
        ? counted.sentryTransactions
        : variant === 'bare'
          ? undefined
          : counted.traces
  return {
    variant,
    mode,
    rps: result.requests.average,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    cpuPercent: window.cpuPercent,
    cpuUsPerRequest: window.cpuUsPerRequest,
    delayMaxMs: window.delayMaxMs,
    delayP99Ms: window.delayP99Ms,
    maxRssMb: drained.maxRssMb,
    handledTotal: drained.handledTotal,
    delivered,
    deliveredPercent: delivered === undefined ? undefined : (delivered / drained.handledTotal) * 100,
    dropped: drained.stats?.dropped,
    telemeterStats: drained.stats,
    violations: counted.violations,
    httpRequests: counted.httpRequests,
  }
}

const median = (values) => {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return undefined
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
const fmt = (value, digits = 2) => (value === undefined ? 'n/a' : value.toFixed(digits))
const range = (values, digits = 2) => {
  const clean = values.filter((v) => typeof v === 'number' && Number.isFinite(v))
  if (clean.length === 0) return 'n/a'
  return `${fmt(median(clean), digits)} (${fmt(Math.min(...clean), digits)}–${fmt(Math.max(...clean), digits)})`
}

async function main() {
  if (!existsSync(here('../dist/index.cjs'))) throw new Error('build @telemeter/express first')
  root = snapshot()
  const testkit = fork('testkit-server.mjs', [], { BENCH_APP_KEY: APP_KEY })
  const { url, sentryDsn } = await nextMessage(testkit, 'ready')
  const env = {
    BENCH_TESTKIT_URL: url,
    BENCH_APP_KEY: APP_KEY,
    BENCH_SENTRY_DSN: sentryDsn,
    BENCH_EXPRESS: process.env.BENCH_EXPRESS ?? '5',
  }
  const rounds = []
  const loadBefore = loadavg()[0]
  for (let round = 0; round < ROUNDS; round++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length])
    const results = { saturated: {}, fixed: {} }
    for (const mode of ['saturated', 'fixed']) {
      for (const variant of order) {
        const run = await runVariant(testkit, variant, env, mode)
        results[mode][variant] = run
        console.log(
          `round ${round + 1} ${mode.padEnd(9)} ${variant.padEnd(16)} ${fmt(run.rps, 0).padStart(7)} req/s  cpu ${fmt(run.cpuPercent, 1)}% ${fmt(run.cpuUsPerRequest, 0)} µs/req  rss ${fmt(run.maxRssMb, 0)} MB  delivered ${fmt(run.deliveredPercent, 3)}%  loop max ${fmt(run.delayMaxMs)} ms`,
        )
      }
    }
    rounds.push(results)
  }
  testkit.send({ type: 'exit' })
  rmSync(root, { recursive: true, force: true })
  const loadAfter = loadavg()[0]

  const rows = VARIANTS.map((variant) => {
    const per = (fn) => rounds.map((round) => fn(round, round.saturated[variant], round.saturated.bare))
    return {
      variant,
      ratio: per((_, run, bare) => run.rps / bare.rps),
      rps: per((_, run) => run.rps),
      p99: per((_, run) => run.p99Ms),
      delivered: per((_, run) => run.deliveredPercent),
      rssDelta: per((_, run, bare) => run.maxRssMb - bare.maxRssMb),
      cpuDelta: per((round) => round.fixed[variant].cpuPercent - round.fixed.bare.cpuPercent),
      cpu: per((round) => round.fixed[variant].cpuPercent),
      cpuPerRequest: per((round) => round.fixed[variant].cpuUsPerRequest),
      fixedRps: per((round) => round.fixed[variant].rps),
      delayMax: per((round) => round.fixed[variant].delayMaxMs),
      delayP99: per((round) => round.fixed[variant].delayP99Ms),
      errors: per((round, run) => run.errors + round.fixed[variant].errors),
      dropped: per((_, run) => run.dropped ?? 0),
    }
  })
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  const lines = [
    `Machine: ${cpu}, ${cpus().length} cores, Node ${process.version}, Express ${env.BENCH_EXPRESS}, ${new Date().toISOString().slice(0, 10)}; ${hasTaskset ? 'server pinned to core 0, autocannon and test server on core 1' : 'no taskset: processes not pinned'}.`,
    `1-minute load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after (2 cores: anything above ~2 means other work competed).`,
    `${ROUNDS} rounds x (${WARMUP_S} s warm-up + ${DURATION_S} s) per variant and mode, rotated order; \`GET /users/:id\`, ${CONNECTIONS} connections. Median over rounds (min–max).`,
    '',
    '| variant | req/s vs bare (same round) | req/s | p99 ms | traces delivered | peak RSS vs bare | CPU at 1,000 req/s (achieved req/s) | CPU vs bare | CPU µs per request | event-loop delay max / p99 at 1,000 req/s |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (row) =>
        `| ${LABELS[row.variant] ?? row.variant} | ${range(row.ratio)}x | ${range(row.rps, 0)} | ${range(row.p99, 0)} | ${row.variant === 'bare' ? '–' : `${range(row.delivered, 3)} %`} | ${range(row.rssDelta, 1)} MB | ${range(row.cpu, 1)} % (${fmt(median(row.fixedRps), 0)}) | ${range(row.cpuDelta, 1)} pp | ${range(row.cpuPerRequest, 0)} | ${range(row.delayMax)} / ${range(row.delayP99)} ms |`,
    ),
    '',
    `Errors/timeouts/non-2xx seen by autocannon: ${rows.map((row) => `${row.variant} ${row.errors.reduce((a, b) => a + b, 0)}`).join(', ')}. Telemeter requests dropped: ${rows
      .filter((row) => row.variant.startsWith('telemeter'))
      .map((row) => `${row.variant} ${row.dropped.reduce((a, b) => a + b, 0)}`)
      .join(', ')}.`,
  ]
  const table = lines.join('\n')
  console.log(`\n${table}\n`)
  writeFileSync(here('./results.json'), `${JSON.stringify({ rounds, rows }, null, 2)}\n`)
  // Only a full run (every default variant, 3+ rounds) replaces the published table.
  if (process.env.BENCH_VARIANTS || ROUNDS < 3) return
  const resultsFile = here('./RESULTS.md')
  const previous = existsSync(resultsFile)
    ? readFileSync(resultsFile, 'utf8')
    : '# @telemeter/express benchmark\n\n<!-- bench:start -->\n<!-- bench:end -->\n'
  const start = previous.indexOf('<!-- bench:start -->')
  const end = previous.indexOf('<!-- bench:end -->')
  if (start >= 0 && end > start)
    writeFileSync(
      resultsFile,
      `${previous.slice(0, start)}<!-- bench:start -->\n${table}\n${previous.slice(end)}`,
    )
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
