// Where the per-request CPU goes, without a load generator: runs the
// middleware on real `IncomingMessage` / `ServerResponse` objects (no socket)
// and completes each response, N times per variant, then waits until
// everything recorded is delivered to a test server in another process.
// Reports CPU microseconds per request of this process (process.cpuUsage),
// which other load on the machine disturbs far less than req/s. Each
// variant adds one layer:
//   handler only | middleware, Telemeter disabled | traces recorded (memory
//   queue, no delivery) | + delivered | file queue, delivered (the default)
//
//   node bench/micro.mjs        (MICRO_REQUESTS=20000, MICRO_ROUNDS=5)
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTelemeter } from '@telemeter/core'
import { telemeterMiddleware } from '@telemeter/express'

const REQUESTS = Number(process.env.MICRO_REQUESTS ?? 20_000)
const ROUNDS = Number(process.env.MICRO_ROUNDS ?? 5)
/** Requests per burst; the event loop (delivery) runs between bursts, as between requests of a real server. */
const BURST = 100
const socket = new Socket()

function exchange() {
  const req = new IncomingMessage(socket)
  req.method = 'GET'
  req.url = '/users/42'
  req.headers = { host: '127.0.0.1', accept: '*/*' }
  const res = new ServerResponse(req)
  return { req, res }
}

function handler(_req, res) {
  res.statusCode = 200
  res.setHeader('content-length', '48')
  // What finishing a response does, without a socket.
  res.emit('finish')
  res.emit('close')
}

async function run(variant) {
  const started = process.cpuUsage()
  for (let i = 0; i < REQUESTS; i += BURST) {
    for (let j = 0; j < BURST; j++) {
      const { req, res } = exchange()
      if (variant.middleware) variant.middleware(req, res, () => handler(req, res))
      else handler(req, res)
    }
    await new Promise((resolve) => setImmediate(resolve))
  }
  if (variant.deliver) await variant.telemeter.flush()
  const used = process.cpuUsage(started)
  return (used.user + used.system) / REQUESTS
}

const testkit = fork(fileURLToPath(new URL('./testkit-server.mjs', import.meta.url)), {
  env: { ...process.env, BENCH_APP_KEY: 'MICRO' },
})
const { url } = await new Promise((resolve) => testkit.once('message', resolve))
const dir = mkdtempSync(join(tmpdir(), 'telemeter-micro-'))
const base = { appKey: 'MICRO', deviceId: 'micro', sessions: 'manual', serverConfig: false }
function variant(config, deliver) {
  const telemeter = createTelemeter({ ...base, url: deliver ? url : 'http://127.0.0.1:9', ...config })
  return { telemeter, middleware: telemeterMiddleware(telemeter), deliver }
}
const variants = {
  'handler only': {},
  'middleware, Telemeter disabled': variant({ disabled: true }, false),
  // Nothing listens on port 9: recording only (the queue is large enough to keep it all).
  'traces recorded, memory queue': variant({ storage: 'memory', maxQueueSize: 10_000_000 }, false),
  'traces delivered, memory queue': variant({ storage: 'memory' }, true),
  'traces delivered, file queue': variant({ storagePath: dir }, true),
}
// MICRO_ONLY=<variant name> keeps one variant (to profile it with --cpu-prof).
if (process.env.MICRO_ONLY)
  for (const name of Object.keys(variants)) if (name !== process.env.MICRO_ONLY) delete variants[name]
const results = Object.fromEntries(Object.keys(variants).map((name) => [name, []]))
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, v] of Object.entries(variants)) results[name].push(await run(v))
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
console.log(
  `${REQUESTS} requests x ${ROUNDS} rounds, Node ${process.version}: CPU µs per request (median, min–max), and the step from the line above`,
)
let previous
for (const [name, values] of Object.entries(results)) {
  const value = median(values)
  const step =
    previous === undefined ? '' : `${value - previous >= 0 ? '+' : ''}${(value - previous).toFixed(2)}`
  console.log(
    `  ${name.padEnd(32)} ${value.toFixed(2).padStart(7)} (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})  ${step}`,
  )
  previous = value
}
for (const v of Object.values(variants)) await v.telemeter?.shutdown({ timeoutMs: 1_000 })
testkit.send({ type: 'exit' })
rmSync(dir, { recursive: true, force: true })
