import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ExportableSpan } from '../../src/index.js'
import { type Backend, hrMs, SERVICE_DEVICE, startBackend } from '../helpers.js'
import type {
  ExporterLike,
  InMemoryExporterLike,
  InstrumentationLike,
  NodeSdkLike,
  OtelSdk,
  SpanProcessorLike,
} from './sdk.js'

interface Reply {
  status: number
  body: string
}

/**
 * The exporter in `NodeSDK({ spanProcessors })` with the real http
 * instrumentation: a plain `node:http` service on loopback, called with
 * `http.request` (and `fetch` where the suite has the undici instrumentation).
 * NodeSDK registers globals, so a suite runs this in a test file of its own.
 */
export function httpScenarios(sdk: OtelSdk): void {
  describe(`NodeSDK + http instrumentation over loopback (OpenTelemetry SDK ${sdk.line})`, () => {
    let backend: Backend
    let exporter: ExporterLike
    let memory: InMemoryExporterLike & ExporterLike
    let batch: SpanProcessorLike
    let instrumentations: InstrumentationLike[]
    let nodeSdk: NodeSdkLike
    let http: typeof import('node:http')
    let app: Server
    let origin: string

    function handle(req: IncomingMessage, res: ServerResponse): void {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://localhost')
        const send = (status: number, body: string) => {
          res.statusCode = status
          res.setHeader('content-type', 'application/json')
          res.setHeader('content-length', Buffer.byteLength(body))
          res.end(body)
        }
        const user = /^\/users\/(\d+)$/.exec(url.pathname)
        if (user) {
          sdk.api.trace.getActiveSpan()?.setAttribute('enduser.id', `user-${user[1]}`)
          return send(200, JSON.stringify({ id: Number(user[1]), name: 'Ada' }))
        }
        if (url.pathname === '/orders' && req.method === 'POST') return send(201, '{"order":"o-1"}')
        if (url.pathname === '/broken') {
          sdk.api.trace.getActiveSpan()?.recordException(new RangeError('stock below zero'))
          return send(500, '{"error":"internal"}')
        }
        if (url.pathname === '/healthz') return send(200, '{"ok":true}')
        send(404, '{}')
      })
    }

    function request(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
      return new Promise<Reply>((resolve, reject) => {
        const req = http.request(`${origin}${path}`, { method, headers }, (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => (text += chunk))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
        })
        req.on('error', reject)
        req.end(body)
      })
    }

    /** Wait (bounded) until the in-memory exporter saw spans matching `predicate`. */
    async function spansWhere(predicate: (spans: ExportableSpan[]) => boolean): Promise<ExportableSpan[]> {
      for (let i = 0; i < 1_000; i++) {
        const spans = memory.getFinishedSpans()
        if (predicate(spans)) return spans
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      throw new Error(`spans never matched; got ${memory.getFinishedSpans().map((span) => span.name)}`)
    }

    beforeAll(async () => {
      backend = await startBackend()
      exporter = new sdk.otel.TelemeterSpanExporter({ telemeter: backend.telemeter })
      memory = new sdk.InMemorySpanExporter()
      batch = sdk.batchProcessor(exporter, { scheduledDelayMillis: 20 })
      instrumentations = [
        new sdk.HttpInstrumentation({
          headersToSpanAttributes: {
            server: {
              requestHeaders: ['x-device-id', 'content-length'],
              responseHeaders: ['content-length'],
            },
          },
        }),
        ...(sdk.UndiciInstrumentation ? [new sdk.UndiciInstrumentation()] : []),
      ]
      nodeSdk = new sdk.NodeSDK({
        spanProcessors: [batch, sdk.simpleProcessor(memory)],
        instrumentations,
        logRecordProcessors: [],
        metricReaders: [],
        resourceDetectors: [],
      })
      nodeSdk.start()
      // ESM imports of node:http are invisible to require-in-the-middle; one
      // require lets the instrumentation patch the module object every importer shares.
      http = createRequire(import.meta.url)('node:http') as typeof import('node:http')
      app = http.createServer(handle)
      await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve))
      origin = `http://127.0.0.1:${(app.address() as { port: number }).port}`
    })

    afterAll(async () => {
      await new Promise((resolve) => app?.close(resolve))
      await nodeSdk?.shutdown()
      for (const instrumentation of instrumentations ?? []) instrumentation.disable()
      sdk.api.trace.disable()
      sdk.api.context.disable()
      sdk.api.propagation.disable()
      await backend?.close()
    })

    it('records SERVER and CLIENT spans as network traces, exceptions as crashes, and none of its own traffic', async () => {
      const appHost = origin.slice('http://'.length)
      expect(await request('GET', '/users/42')).toEqual({ status: 200, body: '{"id":42,"name":"Ada"}' })
      const order = '{"sku":"A-1","qty":2}'
      expect((await request('POST', '/orders', { 'x-device-id': 'device-abc' }, order)).status).toBe(201)
      expect((await request('GET', '/broken')).status).toBe(500)
      expect((await request('GET', '/healthz')).status).toBe(200)
      const calls = 4 + (sdk.UndiciInstrumentation ? 1 : 0)
      if (sdk.UndiciInstrumentation) expect((await fetch(`${origin}/users/7?tab=orders`)).status).toBe(200)

      const appSpans = (spans: ExportableSpan[], kind: number) =>
        spans.filter(
          (span) => span.kind === kind && String(span.attributes['server.port']) === origin.split(':')[2],
        )
      await spansWhere((spans) => appSpans(spans, 1).length === calls && appSpans(spans, 2).length === calls)
      await batch.forceFlush()
      await exporter.forceFlush()
      // The Telemeter's own delivery made spans too (client, and server in this process): they reach the exporter...
      await spansWhere((spans) =>
        spans.some((span) => String(span.attributes['server.port']) === String(backend.server.port)),
      )
      await batch.forceFlush()
      await exporter.forceFlush()

      const server = backend.server
      const summary = server
        .traces()
        .map((trace) => [trace.name, trace.device_id, trace.metrics.response_code] as const)
        .sort()
      const expected: (readonly [string, string, number])[] = [
        ['GET /users/:id', 'user-42', 200],
        ['POST /orders', 'device-abc', 201],
        ['GET /broken', SERVICE_DEVICE, 500],
        [`GET ${appHost}/users/:id`, SERVICE_DEVICE, 200],
        [`POST ${appHost}/orders`, SERVICE_DEVICE, 201],
        [`GET ${appHost}/broken`, SERVICE_DEVICE, 500],
      ]
      if (sdk.UndiciInstrumentation) {
        expected.push(['GET /users/:id', 'user-7', 200], [`GET ${appHost}/users/:id`, SERVICE_DEVICE, 200])
      }
      // ...and none of it is exported: no feedback loop. Health checks are left out too.
      expect(summary).toEqual(expected.sort())

      // Every trace is timed by its span: same start, same duration.
      const spans = memory.getFinishedSpans()
      for (const trace of server.traces()) {
        const match = spans.filter(
          (span) =>
            Math.round(hrMs(span.startTime)) === trace.stz &&
            Math.round(hrMs(span.endTime) - hrMs(span.startTime)) === trace.metrics.response_time,
        )
        expect(match.length, trace.name).toBeGreaterThanOrEqual(1)
      }
      const post = server.traces({ name: 'POST /orders' })[0]!
      expect(post.metrics.request_payload_size).toBe(Buffer.byteLength(order))
      expect(post.metrics.response_payload_size).toBe('{"order":"o-1"}'.length)

      const crashes = server.crashes()
      expect(crashes).toHaveLength(1)
      const broken = spans.find((span) => span.kind === 1 && span.attributes['url.path'] === '/broken')!
      expect(crashes[0]).toMatchObject({
        name: 'RangeError: stock below zero',
        nonfatal: true,
        device_id: SERVICE_DEVICE,
        custom: {
          method: 'GET',
          route: '/broken',
          status: 500,
          trace_id: broken.spanContext().traceId,
          span_id: broken.spanContext().spanId,
          instrumentation: '@opentelemetry/instrumentation-http',
        },
      })
      expect(crashes[0]!.error).toMatch(/^RangeError: stock below zero\n {4}at /)
      expect(server.user('user-42')?.sc).toBe(1)
      expect(server.violations).toEqual([])
    })
  })
}
