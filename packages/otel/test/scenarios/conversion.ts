import type { TestServer } from '@telemeter/testkit'
import { describe, expect, it } from 'vitest'
import { SERVICE_DEVICE } from '../helpers.js'
import { harness } from './harness.js'
import { type OtelSdk, SPAN_KIND } from './sdk.js'

function traces(server: TestServer) {
  return server.traces().map(({ device_id, type, name, stz, etz, metrics }) => ({
    device_id,
    type,
    name,
    stz,
    etz,
    metrics,
  }))
}

/** The trace a network span should become (own device). */
function network(name: string, startMs: number, ms: number, code: number, sizes: [number, number] = [0, 0]) {
  return {
    device_id: SERVICE_DEVICE,
    type: 'network',
    name,
    stz: startMs,
    etz: startMs + ms,
    metrics: {
      response_time: ms,
      response_code: code,
      request_payload_size: sizes[0],
      response_payload_size: sizes[1],
    },
  }
}

/** The trace a custom span should become (own device). */
function custom(name: string, startMs: number, ms: number, metrics: Record<string, number> = {}) {
  return {
    device_id: SERVICE_DEVICE,
    type: 'device',
    name,
    stz: startMs,
    etz: startMs + ms,
    metrics: { duration: ms, ...metrics },
  }
}

/** Spans made by the real SDK tracer become the traces the server receives. */
export function conversionScenarios(sdk: OtelSdk): void {
  describe(`span conversion (OpenTelemetry SDK ${sdk.line})`, () => {
    it('turns a SERVER span with stable HTTP attributes into a network trace named after http.route', async () => {
      const h = await harness(sdk)
      const startMs = Date.now() - 5_000
      h.span('GET /users/:id', {
        kind: SPAN_KIND.SERVER,
        startMs,
        durationMs: 37,
        attributes: {
          'http.request.method': 'GET',
          'http.route': '/users/:id',
          'url.path': '/users/42',
          'url.query': 'tab=orders',
          'url.scheme': 'http',
          'server.address': 'api.internal',
          'server.port': 8080,
          'http.response.status_code': 200,
          'http.request.body.size': 17,
          'http.response.body.size': 512,
        },
      })
      await h.flush()
      expect(traces(h.backend.server)).toEqual([network('GET /users/:id', startMs, 37, 200, [17, 512])])
      expect(h.backend.server.crashes()).toEqual([])
      expect(h.backend.server.violations).toEqual([])
    })

    it('reads the old HTTP vocabulary and names a route-less SERVER span after its path with ids replaced', async () => {
      const h = await harness(sdk)
      const startMs = Date.now() - 4_000
      h.span('HTTP POST', {
        kind: SPAN_KIND.SERVER,
        startMs,
        durationMs: 120,
        attributes: {
          'http.method': 'post',
          'http.target': '/orders/9f8e7d6c5b4a39281706f5e4/items/12?expand=1',
          'http.host': 'shop.local:3000',
          'http.scheme': 'http',
          'http.status_code': 201,
          'http.request_content_length': 64,
          'http.response_content_length': 2,
        },
      })
      h.span('GET', {
        kind: SPAN_KIND.SERVER,
        startMs,
        durationMs: 3,
        attributes: {
          'http.request.method': 'GET',
          'url.path': '/files/6f1c2b7e-8a4d-4c1e-9b3a-2d5e6f7a8b9c/v2/readme',
          'http.response.status_code': 304,
        },
      })
      await h.flush()
      expect(traces(h.backend.server)).toEqual([
        network('POST /orders/:id/items/:id', startMs, 120, 201, [64, 2]),
        network('GET /files/:id/v2/readme', startMs, 3, 304),
      ])
      expect(h.backend.server.violations).toEqual([])
    })

    it('names CLIENT spans <METHOD> <host><path template> in both vocabularies, without a crash for a 5xx', async () => {
      const h = await harness(sdk)
      const startMs = Date.now() - 3_000
      h.span('GET', {
        kind: SPAN_KIND.CLIENT,
        startMs,
        durationMs: 250,
        attributes: {
          'http.request.method': 'GET',
          'url.full': 'https://payments.example.com/v1/charges/4242?expand=customer',
          'server.address': 'payments.example.com',
          'server.port': 443,
          'http.response.status_code': 502,
        },
      })
      h.span('HTTP DELETE', {
        kind: SPAN_KIND.CLIENT,
        startMs,
        durationMs: 9,
        attributes: {
          'http.method': 'DELETE',
          'http.url': 'http://inventory:8081/items/6f1c2b7e-8a4d-4c1e-9b3a-2d5e6f7a8b9c',
          'http.status_code': 204,
          'http.response_content_length': 0,
        },
      })
      h.span('PUT', {
        kind: SPAN_KIND.CLIENT,
        startMs,
        durationMs: 14,
        attributes: {
          'http.request.method': 'PUT',
          'server.address': 'cache.local',
          'server.port': 6380,
          'url.path': '/keys/123',
          'http.request.body.size': 40,
          'http.response.status_code': 200,
        },
      })
      await h.flush()
      expect(traces(h.backend.server)).toEqual([
        network('GET payments.example.com/v1/charges/:id', startMs, 250, 502),
        network('DELETE inventory:8081/items/:id', startMs, 9, 204),
        network('PUT cache.local:6380/keys/:id', startMs, 14, 200, [40, 0]),
      ])
      // A dependency's 5xx is not this service's crash.
      expect(h.backend.server.crashes()).toEqual([])
      expect(h.backend.server.violations).toEqual([])
    })

    it('turns other spans into custom traces with duration and sanitised numeric attributes as metrics', async () => {
      const h = await harness(sdk)
      const startMs = Date.now() - 2_000
      h.span('db.query users', {
        startMs,
        durationMs: 15,
        attributes: {
          'db.system': 'postgresql',
          'db.rows_returned': 12,
          'cache hit ratio': 0.5,
          'cache.hit-ratio': 0.9,
          'server.port': 5432,
          'thread.id': 7,
          '42': 1,
          duration: 99,
          flag: true,
        },
      })
      h.span('render the monthly invoice PDF for every customer', { startMs, durationMs: 1_200 })
      h.span('SELECT', {
        kind: SPAN_KIND.SERVER,
        startMs,
        durationMs: 2,
        attributes: { 'rpc.system': 'grpc' },
      })
      h.span('1234', { startMs, durationMs: 1 })
      h.span('💥', { startMs, durationMs: 1 })
      await h.flush()
      expect(traces(h.backend.server)).toEqual([
        custom('db_query_users', startMs, 15, { db_rows_returned: 12, cache_hit_ratio: 0.5 }),
        custom('render_the_monthly_invoice_PDF_f', startMs, 1_200),
        custom('SELECT', startMs, 2),
      ])
      // One warning per kind of unsafe input, however many spans carry it.
      expect(h.backend.warnings.filter((line) => line.includes('span name'))).toHaveLength(1)
      expect(h.backend.warnings.filter((line) => line.includes('span attribute'))).toHaveLength(1)
      expect(h.backend.server.violations).toEqual([])
    })

    it('exports HTTP spans only with customTraces: false', async () => {
      const h = await harness(sdk, { customTraces: false })
      h.span('db.query', { durationMs: 4 })
      h.span('GET /ping', {
        kind: SPAN_KIND.SERVER,
        durationMs: 1,
        attributes: { 'http.request.method': 'GET', 'http.route': '/ping', 'http.response.status_code': 200 },
      })
      await h.flush()
      expect(h.backend.server.traces().map((trace) => trace.name)).toEqual(['GET /ping'])
    })

    it('leaves health checks out by default and keeps them with ignoreDefaults: false', async () => {
      const health = {
        kind: SPAN_KIND.SERVER,
        durationMs: 1,
        attributes: {
          'http.request.method': 'GET',
          'url.path': '/healthz',
          'http.response.status_code': 200,
        },
      }
      const h = await harness(sdk)
      h.span('GET', health)
      await h.flush()
      expect(h.backend.server.traces()).toEqual([])
      const all = await harness(sdk, { ignoreDefaults: false })
      all.span('GET', health)
      await all.flush()
      expect(all.backend.server.traces().map((trace) => trace.name)).toEqual(['GET /healthz'])
    })

    it('works in a BatchSpanProcessor', async () => {
      const h = await harness(sdk, {}, { processor: 'batch' })
      for (const id of [1, 2, 3]) {
        h.span('GET', {
          kind: SPAN_KIND.SERVER,
          durationMs: id,
          attributes: {
            'http.request.method': 'GET',
            'url.path': `/items/${id}`,
            'http.response.status_code': 200,
          },
        })
      }
      await h.flush()
      expect(h.backend.server.traces().map((trace) => [trace.name, trace.metrics.response_time])).toEqual([
        ['GET /items/:id', 1],
        ['GET /items/:id', 2],
        ['GET /items/:id', 3],
      ])
      expect(h.backend.server.violations).toEqual([])
    })
  })
}
