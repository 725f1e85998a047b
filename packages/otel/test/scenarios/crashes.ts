import { describe, expect, it } from 'vitest'
import { SERVICE_DEVICE } from '../helpers.js'
import { harness } from './harness.js'
import { type OtelSdk, SPAN_KIND, STATUS_CODE } from './sdk.js'

function boom(): TypeError {
  const error = new TypeError('cannot read properties of undefined')
  error.stack = 'TypeError: cannot read properties of undefined\n    at charge (/app/src/billing.ts:42:7)'
  return error
}

/** `exception` events and ERROR statuses become crash reports. */
export function crashScenarios(sdk: OtelSdk): void {
  describe(`crash reports (OpenTelemetry SDK ${sdk.line})`, () => {
    it('reports each exception once, even when several spans of a trace record it', async () => {
      const h = await harness(sdk)
      const request = h.span('POST /charges', {
        kind: SPAN_KIND.SERVER,
        attributes: {
          'http.request.method': 'POST',
          'http.route': '/charges',
          'http.response.status_code': 500,
        },
      })
      const charge = h.span('charge', {
        parent: request,
        durationMs: 5,
        before(span) {
          span.recordException(boom())
          span.recordException(new RangeError('amount below zero'))
          span.setStatus({ code: STATUS_CODE.ERROR })
        },
      })
      request.recordException(boom())
      request.end()
      await h.flush()
      const crashes = h.backend.server.crashes()
      expect(crashes.map((crash) => [crash.name, crash.nonfatal, crash.device_id])).toEqual([
        ['TypeError: cannot read properties of undefined', true, SERVICE_DEVICE],
        ['RangeError: amount below zero', true, SERVICE_DEVICE],
      ])
      expect(crashes[0]!.error).toBe(
        'TypeError: cannot read properties of undefined\n    at charge (/app/src/billing.ts:42:7)',
      )
      const { traceId, spanId } = charge.spanContext()
      expect(crashes[0]!.custom).toEqual({
        span: 'charge',
        trace_id: traceId,
        span_id: spanId,
        instrumentation: 'scenario',
      })
      // The request span's 500 is the exception already reported: no extra "responded 500" crash.
      expect(
        h.backend.server.traces({ type: 'network' }).map((trace) => trace.metrics.response_code),
      ).toEqual([500])
      expect(h.backend.server.violations).toEqual([])
    })

    it('reports a SERVER span answered with a 5xx and no exception as the HTTP adapters do', async () => {
      const h = await harness(sdk)
      h.span('GET', {
        kind: SPAN_KIND.SERVER,
        durationMs: 8,
        attributes: {
          'http.request.method': 'GET',
          'http.route': '/reports/:id',
          'http.response.status_code': 503,
        },
        before: (span) => span.setStatus({ code: STATUS_CODE.ERROR }),
      })
      await h.flush()
      const crashes = h.backend.server.crashes()
      expect(crashes.map((crash) => [crash.name, crash.nonfatal, crash.custom])).toEqual([
        [
          'HTTP 503: GET /reports/:id responded 503',
          true,
          { method: 'GET', route: '/reports/:id', status: 503 },
        ],
      ])
    })

    it('reports ERROR-status spans without an exception only with reportErrorStatus', async () => {
      const failing = {
        durationMs: 3,
        before: (span: { setStatus(status: { code: number; message?: string }): unknown }) =>
          span.setStatus({ code: STATUS_CODE.ERROR, message: 'card declined' }),
      }
      const quiet = await harness(sdk)
      quiet.span('charge card', failing)
      quiet.span('GET', {
        kind: SPAN_KIND.CLIENT,
        durationMs: 2,
        attributes: {
          'http.request.method': 'GET',
          'url.full': 'http://rates.local/eur',
          'http.response.status_code': 500,
        },
        before: (span) => span.setStatus({ code: STATUS_CODE.ERROR }),
      })
      await quiet.flush()
      expect(quiet.backend.server.crashes()).toEqual([])
      expect(quiet.backend.server.traces().map((trace) => trace.name)).toEqual([
        'charge_card',
        'GET rates.local/eur',
      ])

      const loud = await harness(sdk, { reportErrorStatus: true })
      loud.span('charge card', failing)
      await loud.flush()
      expect(
        loud.backend.server.crashes().map((crash) => [crash.name, crash.error, crash.custom.span]),
      ).toEqual([
        ['SpanError: charge card: card declined', 'SpanError: charge card: card declined', 'charge card'],
      ])
      expect(loud.backend.server.violations).toEqual([])
    })

    it('always traces spans with an error, whatever the sample rate', async () => {
      const h = await harness(sdk, { sampleRate: 0 })
      h.span('fine', { durationMs: 1 })
      h.span('GET', {
        kind: SPAN_KIND.SERVER,
        durationMs: 1,
        attributes: { 'http.request.method': 'GET', 'url.path': '/ok', 'http.response.status_code': 200 },
      })
      h.span('broken', { durationMs: 2, before: (span) => span.recordException(boom()) })
      await h.flush()
      expect(h.backend.server.traces().map((trace) => trace.name)).toEqual(['broken'])
      expect(h.backend.server.crashes()).toHaveLength(1)
    })
  })
}
