import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { type ExportableSpan, TelemeterSpanExporter } from '../src/index.js'
import { type Backend, SERVICE_DEVICE, startBackend } from './helpers.js'

let backend: Backend | undefined
afterEach(async () => {
  await backend?.close()
  backend = undefined
})

const START: [number, number] = [1_790_000_000, 125_000_000]
const END: [number, number] = [1_790_000_000, 190_000_000]
const exception = (message: string) => ({
  name: 'exception',
  time: END,
  attributes: {
    'exception.type': 'ECONNRESET',
    'exception.message': message,
    'exception.stacktrace': `Error: ${message}\n    at Socket.onclose (node:net:1:1)`,
  },
})

/** Hand-made spans in the SDK 3.x shape (the same fields as 2.x): parentSpanContext, instrumentationScope. */
function span3x(overrides: Partial<ExportableSpan>): ExportableSpan {
  return {
    name: 'span',
    kind: 0,
    spanContext: () => ({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 1 }),
    parentSpanContext: { spanId: '3'.repeat(16) },
    startTime: START,
    endTime: END,
    duration: [0, 65_000_000],
    status: { code: 0 },
    attributes: {},
    events: [],
    instrumentationScope: { name: 'manual-3x', version: '1.0.0' },
    ...overrides,
  }
}

/** Hand-made spans in the SDK 1.x shape: parentSpanId, instrumentationLibrary, no duration. */
function span1x(overrides: Partial<ExportableSpan>): ExportableSpan {
  return {
    name: 'span',
    kind: 0,
    spanContext: () => ({ traceId: '4'.repeat(32), spanId: '5'.repeat(16) }),
    parentSpanId: '6'.repeat(16),
    startTime: START,
    endTime: END,
    status: { code: 0 },
    attributes: {},
    events: [],
    instrumentationLibrary: { name: 'manual-1x' },
    ...overrides,
  }
}

describe('spans of either SDK shape, exported directly', () => {
  it('converts 3.x- and 1.x-shaped spans alike', async () => {
    backend = await startBackend()
    const exporter = new TelemeterSpanExporter({ telemeter: backend.telemeter })
    const server = (make: typeof span3x) =>
      make({
        name: 'GET /a/:id',
        kind: 1,
        attributes: {
          'http.request.method': 'GET',
          'http.route': '/a/:id',
          'http.response.status_code': 200,
        },
      })
    const client = (make: typeof span1x) =>
      make({
        name: 'HTTP GET',
        kind: 2,
        attributes: { 'http.method': 'GET', 'http.url': 'http://b.local/c/5', 'http.status_code': 200 },
        events: [exception('socket hang up')],
      })
    const results: number[] = []
    exporter.export([server(span3x), client(span3x), server(span1x), client(span1x)], (result) =>
      results.push(result.code),
    )
    expect(results).toEqual([0])
    await exporter.forceFlush()
    const startMs = 1_790_000_000_125
    const timed = { stz: startMs, etz: startMs + 65 }
    const ok = { response_time: 65, response_code: 200, request_payload_size: 0, response_payload_size: 0 }
    expect(
      backend.server.traces().map(({ name, stz, etz, metrics }) => ({ name, stz, etz, metrics })),
    ).toEqual(
      [0, 1].flatMap(() => [
        { name: 'GET /a/:id', ...timed, metrics: ok },
        { name: 'GET b.local/c/:id', ...timed, metrics: ok },
      ]),
    )
    // Two traces, two crashes: the same exception in different traces is two occurrences.
    const crashes = backend.server.crashes()
    const request = { method: 'GET', route: 'b.local/c/:id', status: 200 }
    expect(crashes.map((crash) => [crash.name, crash.device_id, crash.custom])).toEqual([
      [
        'ECONNRESET: socket hang up',
        SERVICE_DEVICE,
        { ...request, trace_id: '1'.repeat(32), span_id: '2'.repeat(16), instrumentation: 'manual-3x' },
      ],
      [
        'ECONNRESET: socket hang up',
        SERVICE_DEVICE,
        { ...request, trace_id: '4'.repeat(32), span_id: '5'.repeat(16), instrumentation: 'manual-1x' },
      ],
    ])
    expect(crashes[0]!.error).toBe('Error: socket hang up\n    at Socket.onclose (node:net:1:1)')
    expect(backend.server.violations).toEqual([])
  })

  it('reports an exception event without details, and each exception of a span once', async () => {
    backend = await startBackend()
    const exporter = new TelemeterSpanExporter({ telemeter: backend.telemeter })
    exporter.export(
      [
        span3x({
          name: 'retry loop',
          events: [
            { name: 'retry', attributes: { attempt: 1 } },
            exception('timeout'),
            exception('timeout'),
            { name: 'exception' },
          ],
        }),
      ],
      () => {},
    )
    await exporter.forceFlush()
    expect(backend.server.crashes().map((crash) => [crash.name, crash.error])).toEqual([
      ['ECONNRESET: timeout', 'Error: timeout\n    at Socket.onclose (node:net:1:1)'],
      ['Error', 'Error'],
    ])
    expect(backend.server.traces().map((trace) => trace.name)).toEqual(['retry_loop'])
  })

  it('refuses to start without a Telemeter', () => {
    expect(() => new TelemeterSpanExporter(undefined as never)).toThrow(TypeError)
    expect(() => new TelemeterSpanExporter({ telemeter: {} as never })).toThrow(/createTelemeter/)
  })
})

describe('package', () => {
  it('loads no OpenTelemetry package at run time', () => {
    const dir = join(import.meta.dirname, '..', 'src')
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter(
      (file) => file.endsWith('.ts') && !file.endsWith('.test.ts'),
    )
    expect(files.length).toBeGreaterThan(5)
    for (const file of files) {
      const source = readFileSync(join(dir, file), 'utf8')
      expect(source, file).not.toMatch(/^import (?!type )[^;]*from '@opentelemetry\//m)
      expect(source, file).not.toMatch(/require\(['"]@opentelemetry/)
    }
  })
})
