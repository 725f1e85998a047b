// The server under load in exporter.bench.ts: a node:http service with an
// existing OpenTelemetry setup (NodeSDK, http instrumentation, a batch span
// processor into a stand-in exporter), optionally plus TelemeterSpanExporter.
// Usage: node http-server.mjs <none|otel|otel+telemeter> <countly url> <app key>
import { createRequire } from 'node:module'

const [mode = 'otel', url = 'http://127.0.0.1:9', appKey = 'BENCH'] = process.argv.slice(2)
const stops = []
let ignoreOutgoingRequestHook

if (mode !== 'none') {
  const { NodeSDK } = await import('@opentelemetry/sdk-node')
  const { BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base')
  const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http')
  // Stands in for the exporter the service already has (OTLP, say).
  const existing = {
    export: (_spans, done) => done({ code: 0 }),
    shutdown: async () => {},
    forceFlush: async () => {},
  }
  const spanProcessors = [new BatchSpanProcessor(existing)]
  if (mode === 'otel+telemeter') {
    const { createTelemeter } = await import('@telemeter/core')
    const { isTelemeterRequest, TelemeterSpanExporter } = await import('@telemeter/otel')
    const telemeter = createTelemeter({ url, appKey, storage: 'memory', deviceId: 'bench-service' })
    spanProcessors.push(new BatchSpanProcessor(new TelemeterSpanExporter({ telemeter })))
    stops.push(() => telemeter.shutdown({ timeoutMs: 1_000 }))
    ignoreOutgoingRequestHook = isTelemeterRequest
  }
  const sdk = new NodeSDK({
    spanProcessors,
    instrumentations: [new HttpInstrumentation({ ignoreOutgoingRequestHook })],
    logRecordProcessors: [],
    metricReaders: [],
    resourceDetectors: [],
  })
  sdk.start()
  stops.unshift(() => sdk.shutdown())
}

const http = createRequire(import.meta.url)('node:http')
const body = JSON.stringify({ id: 42, name: 'Ada', roles: ['admin', 'billing'] })
const server = http.createServer((req, res) => {
  if (req.url === '/__cpu') {
    // CPU time of this process so far, for the runner's CPU-per-request figure.
    const { user, system } = process.cpuUsage()
    return res.end(String(user + system))
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
})
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`))
process.on('SIGTERM', async () => {
  server.close()
  for (const stop of stops) await stop()
  process.exit(0)
})
