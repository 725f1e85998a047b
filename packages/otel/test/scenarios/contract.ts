import { describe, expect, it } from 'vitest'
import type { ExportableSpan, SpanExportResult } from '../../src/index.js'
import { SERVICE_DEVICE, startBackend } from '../helpers.js'
import { harness, onCleanup } from './harness.js'
import { type OtelSdk, SPAN_KIND } from './sdk.js'

/** Device mapping, filtering, the feedback loop and the SpanExporter contract. */
export function contractScenarios(sdk: OtelSdk): void {
  describe(`devices and filters (OpenTelemetry SDK ${sdk.line})`, () => {
    it('maps spans to enduser.id, then user.id, then deviceId(span), else the own device', async () => {
      const h = await harness(sdk, {
        deviceId: (span) => {
          if (span.attributes['tenant.id'] === 'explode') throw new Error('no tenant table')
          return span.attributes['tenant.id'] as string | undefined
        },
      })
      const job = (attributes: Record<string, string | number>) =>
        h.span('job', { durationMs: 1, attributes })
      job({ 'enduser.id': 'alice', 'user.id': 'ignored', 'tenant.id': 'ignored' })
      job({ 'user.id': 1042 })
      job({ 'tenant.id': 'tenant-7' })
      job({ 'tenant.id': 'explode' })
      job({})
      await h.flush()
      expect(h.backend.server.traces().map((trace) => trace.device_id)).toEqual([
        'alice',
        '1042',
        'tenant-7',
        SERVICE_DEVICE,
        SERVICE_DEVICE,
      ])
      // Devices other than the service itself get a session, as in the HTTP adapters.
      expect(h.backend.server.user('alice')?.sc).toBe(1)
      expect(h.backend.warnings.filter((line) => line.includes('deviceId(span) threw'))).toHaveLength(1)
      expect(h.backend.server.violations).toEqual([])
    })

    it('exports only the spans filter(span) accepts, and everything when filter throws', async () => {
      const h = await harness(sdk, {
        filter: (span) => {
          if (span.name === 'odd') throw new Error('filter bug')
          return !span.name.startsWith('dns.')
        },
      })
      h.span('dns.lookup', { durationMs: 1 })
      h.span('dns.lookup', { durationMs: 1, before: (span) => span.recordException(new Error('ENOTFOUND')) })
      h.span('checkout', { durationMs: 2 })
      h.span('odd', { durationMs: 3 })
      await h.flush()
      expect(h.backend.server.traces().map((trace) => trace.name)).toEqual(['checkout', 'odd'])
      // A filtered span is left out entirely: not even its exception.
      expect(h.backend.server.crashes()).toEqual([])
      expect(h.backend.warnings.filter((line) => line.includes('filter(span) threw'))).toHaveLength(1)
    })

    it('samples spans at sampleRate', async () => {
      const h = await harness(sdk, { sampleRate: 0.5 })
      for (let i = 0; i < 400; i++) h.span('tick', { durationMs: 1 })
      await h.flush()
      const sampled = h.backend.server.traces().length
      // 400 draws at p = 0.5: outside 120..280 has a probability below 1e-18.
      expect(sampled).toBeGreaterThan(120)
      expect(sampled).toBeLessThan(280)
    })

    it("never exports the spans of Telemeter's own requests to its server", async () => {
      const h = await harness(sdk)
      const { port } = h.backend.server
      const ownServer = (kind: number, attributes: Record<string, string | number | string[]>) =>
        h.span('POST', {
          kind,
          durationMs: 2,
          attributes: { 'http.request.method': 'POST', 'http.response.status_code': 200, ...attributes },
        })
      ownServer(SPAN_KIND.CLIENT, { 'url.full': `${h.backend.server.url}/i/bulk` })
      ownServer(SPAN_KIND.CLIENT, { 'server.address': '127.0.0.1', 'server.port': port, 'url.path': '/i' })
      ownServer(SPAN_KIND.CLIENT, { 'http.url': `http://127.0.0.1:${port}/i?app_key=x` })
      // In a process that also runs the server (tests, the demo): its incoming requests.
      ownServer(SPAN_KIND.SERVER, {
        'server.address': '127.0.0.1',
        'server.port': port,
        'url.path': '/i/bulk',
      })
      ownServer(SPAN_KIND.SERVER, { 'url.path': '/i', 'http.request.header.x-telemeter-sdk': ['1'] })
      // Another service on the same host is not the Telemeter server.
      ownServer(SPAN_KIND.CLIENT, { 'url.full': `http://127.0.0.1:${port + 1}/i` })
      await h.flush()
      expect(h.backend.server.traces().map((trace) => trace.name)).toEqual([`POST 127.0.0.1:${port + 1}/i`])
    })

    it('offers isTelemeterRequest for the http instrumentation hooks', () => {
      expect(
        sdk.otel.isTelemeterRequest({ headers: { 'x-telemeter-sdk': '1', accept: 'application/json' } }),
      ).toBe(true)
      expect(sdk.otel.isTelemeterRequest({ headers: { 'X-Telemeter-SDK': '1' } })).toBe(true)
      expect(sdk.otel.isTelemeterRequest({ headers: ['Host', 'x', 'X-Telemeter-Sdk', '1'] })).toBe(true)
      expect(sdk.otel.isTelemeterRequest({ headers: { accept: '*/*' } })).toBe(false)
      expect(sdk.otel.isTelemeterRequest({})).toBe(false)
    })
  })

  describe(`SpanExporter contract (OpenTelemetry SDK ${sdk.line})`, () => {
    async function finishedSpans(count: number): Promise<ExportableSpan[]> {
      const memory = new sdk.InMemorySpanExporter()
      const provider = new sdk.TracerProvider({ spanProcessors: [sdk.simpleProcessor(memory)] })
      const tracer = provider.getTracer('contract')
      for (let i = 0; i < count; i++) tracer.startSpan(`step ${i}`).end()
      await provider.forceFlush()
      const spans = memory.getFinishedSpans()
      await provider.shutdown()
      return spans
    }

    it('calls the result callback exactly once per export, and fails after shutdown', async () => {
      const backend = await startBackend()
      onCleanup(() => backend.close())
      const exporter = new sdk.otel.TelemeterSpanExporter({ telemeter: backend.telemeter })
      const spans = await finishedSpans(2)
      const results: SpanExportResult[] = []
      exporter.export(spans, (result) => results.push(result))
      expect(results).toEqual([{ code: 0 }])
      await exporter.forceFlush()
      // forceFlush() delivered what the export queued.
      expect(backend.server.traces().map((trace) => trace.name)).toEqual(['step_0', 'step_1'])

      await exporter.shutdown()
      await exporter.shutdown()
      exporter.export(spans, (result) => results.push(result))
      expect(results).toHaveLength(2)
      expect(results[1]!.code).toBe(1)
      expect(results[1]!.error).toBeInstanceOf(Error)
      await backend.telemeter.flush()
      expect(backend.server.traces()).toHaveLength(2)

      // The Telemeter outlives its exporter unless told otherwise.
      backend.telemeter.event('still-recording')
      await backend.telemeter.flush()
      expect(backend.server.events({ key: 'still-recording' })).toHaveLength(1)
      expect(backend.server.violations).toEqual([])
    })

    it('shuts the Telemeter down too with shutdownTelemeter: true', async () => {
      const backend = await startBackend()
      onCleanup(() => backend.close())
      const exporter = new sdk.otel.TelemeterSpanExporter({
        telemeter: backend.telemeter,
        shutdownTelemeter: true,
      })
      exporter.export(await finishedSpans(1), () => {})
      await exporter.shutdown()
      expect(backend.server.traces().map((trace) => trace.name)).toEqual(['step_0'])
      backend.telemeter.event('too-late')
      expect(backend.warnings).toContainEqual(expect.stringContaining('event() called after shutdown()'))
    })

    it('never throws: bad spans are skipped, a throwing callback is contained', async () => {
      const backend = await startBackend()
      onCleanup(() => backend.close())
      const exporter = new sdk.otel.TelemeterSpanExporter({ telemeter: backend.telemeter })
      const [good] = await finishedSpans(1)
      const broken = {
        ...good!,
        name: 'broken',
        spanContext: () => {
          throw new Error('no context')
        },
        events: null,
        attributes: null,
      } as unknown as ExportableSpan
      const timeless = { ...good!, startTime: undefined } as unknown as ExportableSpan
      const calls: number[] = []
      expect(() =>
        exporter.export([null as unknown as ExportableSpan, broken, timeless, good!], (result) => {
          calls.push(result.code)
          throw new Error('processor bug')
        }),
      ).not.toThrow()
      expect(calls).toEqual([0])
      await exporter.forceFlush()
      expect(backend.server.traces().map((trace) => trace.name)).toEqual(['broken', 'step_0'])
      expect(backend.warnings).toContainEqual(expect.stringContaining('no valid start time'))
      expect(backend.warnings).toContainEqual(expect.stringContaining('export callback threw'))
    })
  })
}
