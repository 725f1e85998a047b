// Benchmarks of @telemeter/otel (run: pnpm --filter @telemeter/otel bench).
// 1. Conversion: spans per second TelemeterSpanExporter.export() turns into
//    Telemeter traces, against a no-op exporter in the same script.
// 2. Overhead: autocannon on a node:http server that already runs
//    OpenTelemetry, without and with a TelemeterSpanExporter added.
// Everything talks to 127.0.0.1 only and is bounded in count and time.
import { spawn, spawnSync } from 'node:child_process'
import http from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import { join } from 'node:path'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { createTelemeter } from '@telemeter/core'
import { type ExportableSpan, TelemeterSpanExporter } from '../src/index.js'

const SPANS_PER_KIND = Number(process.env.BENCH_SPANS ?? 20_000)
const BATCH = 512
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 10)
const WARMUP_SECONDS = 2
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const CONNECTIONS = 50
const FIXED_RATE = Number(process.env.BENCH_FIXED_RATE ?? 1_000)

const print = (line = '') => process.stdout.write(`${line}\n`)

// Server under test on core 0, everything else on core 1 (where taskset exists).
const pinned =
  spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' }).status === 0

type Kind = 'server' | 'server-templated' | 'client' | 'custom' | 'exception'

async function makeSpans(kind: Kind, count: number): Promise<ExportableSpan[]> {
  const memory = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] })
  const tracer = provider.getTracer('bench')
  for (let i = 0; i < count; i++) {
    const id = i % 1_000
    if (kind === 'server' || kind === 'server-templated') {
      tracer
        .startSpan('GET', {
          kind: 1,
          attributes: {
            'http.request.method': 'GET',
            ...(kind === 'server' ? { 'http.route': '/users/:id' } : {}),
            'url.path': `/users/${id}`,
            'url.scheme': 'http',
            'server.address': 'api.local',
            'server.port': 8080,
            'network.peer.address': '10.0.0.8',
            'user_agent.original': 'bench',
            'http.response.status_code': 200,
          },
        })
        .end()
    } else if (kind === 'client') {
      tracer
        .startSpan('GET', {
          kind: 2,
          attributes: {
            'http.request.method': 'GET',
            'url.full': `https://payments.example.com/v1/charges/${id}?expand=customer`,
            'server.address': 'payments.example.com',
            'server.port': 443,
            'http.response.status_code': 200,
          },
        })
        .end()
    } else if (kind === 'custom') {
      tracer
        .startSpan('db.query users', {
          attributes: {
            'db.system': 'postgresql',
            'db.statement': 'select * from users where id = $1',
            'db.rows_returned': id,
            'db.cache.hit_ratio': 0.8,
            'server.port': 5432,
            'thread.id': 3,
          },
        })
        .end()
    } else {
      const span = tracer.startSpan('charge card')
      const error = new TypeError(`card ${id} declined`)
      span.recordException(error)
      span.end()
    }
  }
  await provider.forceFlush()
  const spans = memory.getFinishedSpans()
  await provider.shutdown()
  return spans
}

interface Exporter {
  export(spans: readonly ExportableSpan[], done: (result: { code: number }) => void): void
}

interface Spent {
  /** Wall-clock milliseconds inside export(). */
  readonly wallMs: number
  /** CPU milliseconds inside export() (robust when the machine is shared). */
  readonly cpuMs: number
}

/** Time spent inside export(), batch by batch, yielding between batches so delivery can run. */
async function timeExports(exporter: Exporter, spans: ExportableSpan[]): Promise<Spent> {
  let wallMs = 0
  let cpuMs = 0
  for (let start = 0; start < spans.length; start += BATCH) {
    const batch = spans.slice(start, start + BATCH)
    const cpu = process.cpuUsage()
    const began = performance.now()
    exporter.export(batch, () => {})
    wallMs += performance.now() - began
    const used = process.cpuUsage(cpu)
    cpuMs += (used.user + used.system) / 1_000
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { wallMs, cpuMs }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

async function conversion(): Promise<void> {
  print('## Conversion: spans/s through export()')
  print()
  print(
    `${SPANS_PER_KIND.toLocaleString('en')} real SDK 2.x spans per kind and round, exported in batches of ${BATCH} to a Telemeter that delivers to a minimal stand-in; ${ROUNDS} rounds, medians; plain timers around export(), baseline a no-op exporter on the same spans.`,
  )
  print()
  print(
    '| span kind | no-op exporter (spans/s) | TelemeterSpanExporter (spans/s) | ratio | wall µs per span | CPU µs per span |',
  )
  print('|---|---:|---:|---:|---:|---:|')
  const sink = await startSink()
  const noop: Exporter = { export: (_spans, done) => done({ code: 0 }) }
  try {
    for (const kind of ['server', 'server-templated', 'client', 'custom', 'exception'] as Kind[]) {
      const telemeter = createTelemeter({
        url: sink.url,
        appKey: 'BENCH',
        storage: 'memory',
        deviceId: 'bench',
        sessions: 'manual',
        maxQueueSize: 100_000,
      })
      const exporter = new TelemeterSpanExporter({ telemeter })
      // Warm up both paths on spans of their own (exceptions are reported once per trace).
      await timeExports(exporter, await makeSpans(kind, 2_000))
      await timeExports(noop, await makeSpans(kind, 2_000))
      const baseline: number[] = []
      const measured: Spent[] = []
      for (let round = 0; round < ROUNDS; round++) {
        const spans = await makeSpans(kind, SPANS_PER_KIND)
        baseline.push((await timeExports(noop, spans)).wallMs)
        measured.push(await timeExports(exporter, spans))
      }
      await telemeter.shutdown({ timeoutMs: 10_000 })
      const baselineMs = median(baseline)
      const wallMs = median(measured.map((spent) => spent.wallMs))
      const cpuMs = median(measured.map((spent) => spent.cpuMs))
      const rate = (ms: number) => Math.round(SPANS_PER_KIND / (ms / 1_000)).toLocaleString('en')
      const perSpan = (ms: number) => ((ms * 1_000) / SPANS_PER_KIND).toFixed(1)
      print(
        `| ${kind} | ${rate(baselineMs)} | ${rate(wallMs)} | ${(baselineMs / wallMs).toFixed(4)} | ${perSpan(wallMs)} | ${perSpan(cpuMs)} |`,
      )
      sink.reset()
    }
  } finally {
    await sink.close()
  }
  print()
}

interface AutocannonResult {
  requests: { average: number; total: number }
  latency: { p50: number; p99: number; average: number }
  errors: number
  non2xx: number
}
const autocannon = createRequire(import.meta.url)('autocannon') as (options: {
  url: string
  connections: number
  duration: number
  overallRate?: number
}) => Promise<AutocannonResult>

interface LoadResult {
  /** Unbounded load: what the server sustains. */
  readonly max: AutocannonResult
  /** Fixed load: server CPU time per request (µs), robust on a busy machine. */
  readonly cpuPerRequestUs: number
  readonly fixed: AutocannonResult
}

async function underLoad(mode: string, countlyUrl: string): Promise<LoadResult> {
  const command = [process.execPath, join(import.meta.dirname, 'http-server.mjs'), mode, countlyUrl, 'BENCH']
  const child = pinned
    ? spawn('taskset', ['-c', '0', ...command], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)))
      child.stdout.on('data', (chunk: Buffer) => {
        const match = /listening (\d+)/.exec(chunk.toString())
        if (match) resolve(Number(match[1]))
      })
    })
    const url = `http://127.0.0.1:${port}/users/42`
    const cpu = async () => Number(await (await fetch(`http://127.0.0.1:${port}/__cpu`)).text())
    await autocannon({ url, connections: CONNECTIONS, duration: WARMUP_SECONDS })
    const max = await autocannon({ url, connections: CONNECTIONS, duration: LOAD_SECONDS })
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    const before = await cpu()
    const fixed = await autocannon({ url, connections: 10, duration: LOAD_SECONDS, overallRate: FIXED_RATE })
    // Let the batch span processor and the Telemeter finish the run's work.
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    const cpuPerRequestUs = (await cpu()) - before
    return { max, fixed, cpuPerRequestUs: cpuPerRequestUs / fixed.requests.total }
  } finally {
    child.kill('SIGTERM')
    await new Promise((resolve) => child.once('exit', resolve))
  }
}

/**
 * A Countly stand-in cheap enough to share core 1 with the load generator:
 * it answers every request with success and only counts the traces it got
 * (the testkit's full validation would take CPU from autocannon).
 */
async function startSink(): Promise<{
  url: string
  traces: () => number
  reset(): void
  close(): Promise<void>
}> {
  let traces = 0
  const server = http.createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => (body += chunk))
    req.on('end', () => {
      // Bulk bodies are JSON; a lone /i request carries apm= in its query or form body.
      traces += body.split('"apm"').length - 1 + (/[?&]apm=/.test(`${req.url}&${body}`) ? 1 : 0)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"result":"Success"}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    traces: () => traces,
    reset: () => {
      traces = 0
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

async function overhead(): Promise<void> {
  print('## Overhead: adding TelemeterSpanExporter to an existing OpenTelemetry setup')
  print()
  print(
    `autocannon: ${WARMUP_SECONDS} s warm-up, ${LOAD_SECONDS} s unbounded with ${CONNECTIONS} connections (max req/s), then ${LOAD_SECONDS} s at a fixed ${FIXED_RATE} req/s measuring the server's CPU time per request; ${ROUNDS} rounds, modes interleaved, medians. ${pinned ? 'Server pinned to core 0; load generator and a minimal Countly stand-in (answers success, counts traces) on core 1.' : 'No taskset: processes not pinned.'}`,
  )
  print()
  const countly = await startSink()
  const modes = ['none', 'otel', 'otel+telemeter'] as const
  const results: Record<string, LoadResult[]> = { none: [], otel: [], 'otel+telemeter': [] }
  let traces = 0
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of modes) {
        const result = await underLoad(mode, countly.url)
        results[mode]!.push(result)
        if (mode === 'otel+telemeter') traces += countly.traces()
        countly.reset()
      }
    }
  } finally {
    await countly.close()
  }
  const of = (mode: string, pick: (result: LoadResult) => number) => median(results[mode]!.map(pick))
  const rps = (mode: string) => of(mode, (result) => result.max.requests.average)
  const cpu = (mode: string) => of(mode, (result) => result.cpuPerRequestUs)
  const errors = (mode: string) =>
    results[mode]!.reduce(
      (sum, { max, fixed }) => sum + max.errors + max.non2xx + fixed.errors + fixed.non2xx,
      0,
    )
  const labels = {
    none: 'no OpenTelemetry',
    otel: 'OpenTelemetry (baseline)',
    'otel+telemeter': 'OpenTelemetry + TelemeterSpanExporter',
  }
  print(
    `| setup | max req/s | vs baseline | p99 at max (ms) | CPU µs per request at ${FIXED_RATE} req/s | vs baseline | p99 at ${FIXED_RATE} req/s (ms) | errors |`,
  )
  print('|---|---:|---:|---:|---:|---:|---:|---:|')
  for (const mode of modes) {
    print(
      `| ${labels[mode]} | ${Math.round(rps(mode)).toLocaleString('en')} | ${(rps(mode) / rps('otel')).toFixed(2)} | ${of(mode, (result) => result.max.latency.p99)} | ${Math.round(cpu(mode))} | ${(cpu(mode) / cpu('otel')).toFixed(2)} | ${of(mode, (result) => result.fixed.latency.p99)} | ${errors(mode)} |`,
    )
  }
  print()
  print(`Traces the stand-in received from the exporter (all runs): ${traces.toLocaleString('en')}.`)
  print()
}

print('# @telemeter/otel benchmark')
print()
print(
  `Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
)
print()
const part = process.env.BENCH_PART
if (part !== 'overhead') await conversion()
if (part !== 'conversion') await overhead()
