// Bare NestJS vs NestJS + TelemeterModule, `GET /users/:id` on the Express
// platform at 50 connections over loopback.
//
//   pnpm --filter @telemeter/nest bench      (ROUNDS=3 DURATION_S=10 WARMUP_S=3 RESULTS=bench/RESULTS.md)
//
// The application under test runs alone on core 0; this process (autocannon)
// and the Countly stand-in share core 1. Each round runs both variants, in an
// order that alternates between rounds, and the ratio is taken within a round.
// After a run the application is closed (TelemeterModule flushes its queue)
// and the stand-in counts the traces it accepted against the requests served.
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { LABELS, pinned, reply, retried, start, writeResultsBlock } from './processes.mjs'

const APP_KEY = 'NEST_BENCH'
const ROUNDS = Number(process.env.ROUNDS ?? 3)
const DURATION_S = Number(process.env.DURATION_S ?? 10)
const WARMUP_S = Number(process.env.WARMUP_S ?? 3)
const CONNECTIONS = 50
const VARIANTS = (process.env.VARIANTS ?? 'bare,telemeter,telemeter-memory').split(',')
const RESULTS = process.env.RESULTS ?? fileURLToPath(new URL('./RESULTS.md', import.meta.url))

async function run(variant, testkit, testkitUrl) {
  await reply(testkit, 'reset')
  const server = start('./server.mjs', [variant, testkitUrl, APP_KEY], 0)
  let result
  let cpuUsPerRequest
  let report
  try {
    const { port } = await reply(server)
    const url = `http://127.0.0.1:${port}/users/42`
    await autocannon({ url, connections: CONNECTIONS, duration: WARMUP_S })
    await reply(server, 'measure-start')
    result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S })
    ;({ cpuUsPerRequest } = await reply(server, 'measure-stop'))
    report = await reply(server, 'stop')
  } finally {
    server.kill()
  }
  const counted = await reply(testkit, 'count')
  return {
    variant,
    rps: result.requests.average,
    cpuUsPerRequest,
    p99: result.latency.p99,
    failed: result.errors + result.non2xx,
    handled: report.handled,
    delivered:
      !variant.startsWith('telemeter') || variant === 'telemeter-disabled'
        ? Number.NaN
        : counted.traces / report.handled,
    peakRssMb: report.peakRssMb,
    stats: report.stats,
    violations: counted.violations,
    outcomes: counted.outcomes,
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
const show = (value, digits = 0) => (Number.isNaN(value) ? '-' : value.toFixed(digits))

const testkit = start('./testkit-server.mjs', [APP_KEY], 1)
// Whatever happens, the stand-in does not outlive the benchmark.
process.on('exit', () => testkit.kill())
const { url: testkitUrl } = await reply(testkit)
const rounds = []
for (let round = 0; round < ROUNDS; round++) {
  const runs = []
  for (const variant of round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
    const result = await retried(() => run(variant, testkit, testkitUrl))
    runs.push(result)
    console.log(
      `round ${round + 1} ${variant.padEnd(9)} ${show(result.rps).padStart(6)} req/s  ${show(result.cpuUsPerRequest, 1)} µs CPU/req  p99 ${result.p99} ms  ` +
        `${result.handled} served, ${result.failed} failed  delivered ${show(result.delivered * 100, 2)} %  ` +
        `peak RSS ${show(result.peakRssMb)} MB  violations ${result.violations.length}`,
    )
    if (result.violations.length > 0) console.log(`  first violation: ${result.violations[0]}`)
    if (result.stats)
      console.log(`  queue: ${JSON.stringify(result.stats)}; server: ${JSON.stringify(result.outcomes)}`)
  }
  rounds.push(runs)
}
testkit.send('close')

const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`
const rows = VARIANTS.map((variant) => {
  const runs = rounds.map((round) => round.find((x) => x.variant === variant))
  const ratios = rounds.map(
    (round) => round.find((x) => x.variant === variant).rps / round.find((x) => x.variant === 'bare').rps,
  )
  const cpuRatios = rounds.map(
    (round) =>
      round.find((x) => x.variant === 'bare').cpuUsPerRequest /
      round.find((x) => x.variant === variant).cpuUsPerRequest,
  )
  const delivered = runs.map((x) => x.delivered)
  return `| ${LABELS[variant]} | ${show(median(runs.map((x) => x.rps)))} | ${show(median(ratios), 2)}x (${ratios.map((x) => show(x, 2)).join(', ')}) | ${show(median(runs.map((x) => x.cpuUsPerRequest)), 1)} µs | ${show(median(cpuRatios), 2)}x | ${show(median(runs.map((x) => x.p99)))} ms | ${Number.isNaN(delivered[0]) ? '-' : `${show(Math.min(...delivered) * 100, 2)} % (lowest run)`} | ${show(Math.max(...runs.map((x) => x.peakRssMb)))} MB |`
})
const table = [
  '| variant | req/s (median) | vs bare (median of same-round ratios; per round) | server CPU per request (median) | bare CPU / CPU (same-round) | p99 latency (median) | traces delivered | peak RSS |',
  '|---|---|---|---|---|---|---|---|',
  ...rows,
].join('\n')
const setup = `${machine}; \`GET /users/:id\`, ${CONNECTIONS} connections, ${DURATION_S} s per run after ${WARMUP_S} s warm-up, ${ROUNDS} rounds in alternating order${pinned ? '; application pinned to core 0, autocannon and the Countly stand-in (@telemeter/testkit) on core 1' : ''}.`
console.log(`\n${setup}\n\n${table}`)
if (RESULTS) writeResultsBlock(RESULTS, 'sequential', setup, table)
