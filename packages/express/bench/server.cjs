// One variant of the benchmarked service, in its own process (pinned to a
// core by run.mjs). CommonJS on purpose: Sentry and OpenTelemetry hook
// require() and must be set up before Express is loaded.
//
//   node bench/server.cjs <bare|telemeter|sentry|otel|countly>
//
// Talks to run.mjs over IPC: 'start' / 'stop' bracket a measured window
// (CPU time, event-loop delay, requests handled), 'drain' delivers what the
// telemetry library still holds and reports how much it sent.
'use strict'

const { mkdtempSync, rmSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')
const { monitorEventLoopDelay, performance } = require('node:perf_hooks')

const variant = process.argv[2] ?? 'bare'
const url = process.env.BENCH_TESTKIT_URL
const appKey = process.env.BENCH_APP_KEY
const storageDir = mkdtempSync(join(tmpdir(), `telemeter-bench-${variant}-`))

let drain = async () => ({})
let afterRoutes = (_app) => {}

if (variant === 'sentry') {
  const Sentry = require('@sentry/node')
  Sentry.init({ dsn: process.env.BENCH_SENTRY_DSN, tracesSampleRate: 1, sendDefaultPii: false })
  drain = async () => {
    await Sentry.flush(20_000)
    return {}
  }
  afterRoutes = (app) => Sentry.setupExpressErrorHandler(app)
}

if (variant === 'otel') {
  const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node')
  const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base')
  const { registerInstrumentations } = require('@opentelemetry/instrumentation')
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http')
  const { ExpressInstrumentation } = require('@opentelemetry/instrumentation-express')
  let exportedServerSpans = 0
  // A no-op exporter: measures instrumentation and span processing, not a transport.
  const exporter = {
    export(spans, done) {
      for (const span of spans) if (span.kind === 1) exportedServerSpans++
      done({ code: 0 })
    },
    shutdown: async () => {},
    forceFlush: async () => {},
  }
  const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] })
  provider.register()
  registerInstrumentations({ instrumentations: [new HttpInstrumentation(), new ExpressInstrumentation()] })
  drain = async () => {
    await provider.forceFlush()
    return { delivered: exportedServerSpans }
  }
}

const express = require(process.env.BENCH_EXPRESS === '4' ? 'express4' : 'express5')
const app = express()

// Diagnostic variants peel the layers off: `telemeter-disabled` runs the
// middleware with the kill switch on (no recording), `telemeter-unsampled`
// records nothing for successful requests (sampleRate 0), `telemeter-idle`
// creates the Telemeter without installing the middleware.
if (variant.startsWith('telemeter')) {
  const { createTelemeter } = require('@telemeter/core')
  const { telemeterErrorHandler, telemeterMiddleware } = require('@telemeter/express')
  const telemeter = createTelemeter({
    url,
    appKey,
    deviceId: 'bench-server',
    storage: variant === 'telemeter' ? 'file' : 'memory',
    storagePath: storageDir,
    disabled: variant === 'telemeter-disabled',
  })
  if (variant !== 'telemeter-idle')
    app.use(telemeterMiddleware(telemeter, variant === 'telemeter-unsampled' ? { sampleRate: 0 } : {}))
  const droppedBy = {}
  telemeter.on('dropped', (info) => {
    droppedBy[info.reason] = (droppedBy[info.reason] ?? 0) + info.requests
  })
  let peakQueued = 0
  setInterval(() => {
    peakQueued = Math.max(peakQueued, telemeter.stats().queued)
  }, 100).unref()
  drain = async () => {
    await telemeter.flush()
    const stats = telemeter.stats()
    await telemeter.shutdown({ timeoutMs: 5_000 })
    return { stats: { ...stats, peakQueued, droppedBy } }
  }
  afterRoutes = (app) => app.use(telemeterErrorHandler(telemeter))
}

if (variant === 'countly') {
  const Countly = require('countly-sdk-nodejs')
  // storage_path is a file-name prefix for this SDK: keep its files inside the temporary directory.
  Countly.init({
    app_key: appKey,
    url,
    device_id: 'bench-countly',
    storage_path: join(storageDir, 'countly'),
    app_version: '1.0.0',
  })
  // The official SDK has no Express integration: report a trace per request by hand.
  app.use((req, res, next) => {
    const stz = Date.now()
    const started = performance.now()
    res.on('finish', () => {
      const route = req.route ? `${req.baseUrl}${req.route.path}` : 'unknown route'
      Countly.report_trace({
        type: 'network',
        name: `${req.method} ${route}`,
        stz,
        etz: Date.now(),
        apm_metrics: {
          response_time: Math.round(performance.now() - started),
          response_code: res.statusCode,
          request_payload_size: Number(req.headers['content-length']) || 0,
          response_payload_size: Number(res.getHeader('content-length')) || 0,
        },
      })
    })
    next()
  })
  drain = async () => {
    // One request per heartbeat (500 ms): give it a few beats, it cannot catch up.
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    return {}
  }
}

let handled = 0
app.get('/users/:id', (req, res) => {
  handled++
  res.json({ id: req.params.id, name: 'Ada Lovelace', plan: 'pro', active: true })
})

afterRoutes(app)

const server = app.listen(0, '127.0.0.1', () => {
  process.send({ type: 'ready', port: server.address().port })
})

let window
process.on('disconnect', () => process.exit(0))
process.on('message', async (message) => {
  if (message.type === 'start') {
    const delay = monitorEventLoopDelay({ resolution: 10 })
    delay.enable()
    window = { cpu: process.cpuUsage(), at: performance.now(), handled, delay }
  } else if (message.type === 'stop') {
    const cpu = process.cpuUsage(window.cpu)
    const wallMs = performance.now() - window.at
    window.delay.disable()
    process.send({
      type: 'stopped',
      cpuPercent: ((cpu.user + cpu.system) / 1_000 / wallMs) * 100,
      cpuUsPerRequest: (cpu.user + cpu.system) / Math.max(1, handled - window.handled),
      handled: handled - window.handled,
      delayMaxMs: window.delay.max / 1e6,
      delayP99Ms: window.delay.percentile(99) / 1e6,
    })
  } else if (message.type === 'drain') {
    const started = performance.now()
    const result = await drain()
    process.send({
      type: 'drained',
      handledTotal: handled,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      drainMs: performance.now() - started,
      ...result,
    })
  } else if (message.type === 'exit') {
    server.closeAllConnections()
    server.close()
    rmSync(storageDir, { recursive: true, force: true })
    process.exit(0)
  }
})
