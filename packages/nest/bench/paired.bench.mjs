// The same comparison measured in pairs, for a machine other work competes
// on: bare NestJS and one other variant run at the same time, both pinned to
// core 0, each loaded by its own autocannon (25 connections each, core 1).
// The scheduler gives both servers the same share of the core, whatever else
// runs, so their throughput ratio is their cost ratio per request.
//
//   node bench/paired.bench.mjs      (ROUNDS=5 DURATION_S=10 WARMUP_S=3 VARIANTS=telemeter,... RESULTS=bench/RESULTS.md)
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { LABELS, pinned, reply, retried, start, writeResultsBlock } from './processes.mjs'

const APP_KEY = 'NEST_BENCH'
const ROUNDS = Number(process.env.ROUNDS ?? 5)
const DURATION_S = Number(process.env.DURATION_S ?? 10)
const WARMUP_S = Number(process.env.WARMUP_S ?? 3)
const CONNECTIONS = 25
const VARIANTS = (
  process.env.VARIANTS ?? 'telemeter,telemeter-memory,telemeter-disabled,bare-als,bare-interceptor'
).split(',')
const RESULTS = process.env.RESULTS ?? fileURLToPath(new URL('./RESULTS.md', import.meta.url))

const load = (port, duration) =>
  autocannon({ url: `http://127.0.0.1:${port}/users/42`, connections: CONNECTIONS, duration })

async function pair(variant, testkit, testkitUrl) {
  await reply(testkit, 'reset')
  const servers = ['bare', variant].map((name) => start('./server.mjs', [name, testkitUrl, APP_KEY], 0))
  let bare
  let other
  let reports
  try {
    const ports = (await Promise.all(servers.map((server) => reply(server)))).map((message) => message.port)
    await Promise.all(ports.map((port) => load(port, WARMUP_S)))
    ;[bare, other] = await Promise.all(ports.map((port) => load(port, DURATION_S)))
    reports = await Promise.all(servers.map((server) => reply(server, 'stop')))
  } finally {
    for (const server of servers) server.kill()
  }
  const counted = await reply(testkit, 'count')
  const traced = variant.startsWith('telemeter') && variant !== 'telemeter-disabled'
  return {
    ratio: other.requests.average / bare.requests.average,
    bareRps: bare.requests.average,
    rps: other.requests.average,
    delivered: traced ? counted.traces / reports[1].handled : Number.NaN,
    violations: counted.violations.length,
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const show = (value, digits = 0) => (Number.isNaN(value) ? '-' : value.toFixed(digits))

const testkit = start('./testkit-server.mjs', [APP_KEY], 1)
process.on('exit', () => testkit.kill())
const { url: testkitUrl } = await reply(testkit)
const results = Object.fromEntries(VARIANTS.map((variant) => [variant, []]))
for (let round = 0; round < ROUNDS; round++) {
  for (const variant of round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
    const result = await retried(() => pair(variant, testkit, testkitUrl))
    results[variant].push(result)
    console.log(
      `round ${round + 1} ${variant.padEnd(18)} ${show(result.ratio, 2)}x  (${show(result.rps)} vs bare ${show(result.bareRps)} req/s)  ` +
        `delivered ${show(result.delivered * 100, 2)} %  violations ${result.violations}`,
    )
  }
}
testkit.send('close')

const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`
const table = [
  '| variant, run at the same time as bare NestJS | req/s vs bare (median; per round) | traces delivered |',
  '|---|---|---|',
  ...VARIANTS.map((variant) => {
    const runs = results[variant]
    const ratios = runs.map((x) => x.ratio)
    const delivered = runs.map((x) => x.delivered)
    return `| ${LABELS[variant]} | ${show(median(ratios), 2)}x (${ratios.map((x) => show(x, 2)).join(', ')}) | ${Number.isNaN(delivered[0]) ? '-' : `${show(Math.min(...delivered) * 100, 2)} % (lowest run)`} |`
  }),
].join('\n')
const setup = `${machine}; \`GET /users/:id\`; bare NestJS and the variant at the same time, ${CONNECTIONS} connections each, ${DURATION_S} s after ${WARMUP_S} s warm-up, ${ROUNDS} rounds${pinned ? '; both applications pinned to core 0, the two autocannon instances and the Countly stand-in on core 1' : ''}.`
console.log(`\n${setup}\n\n${table}`)
if (RESULTS) writeResultsBlock(RESULTS, 'paired', setup, table)
