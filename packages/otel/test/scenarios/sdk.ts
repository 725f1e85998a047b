/**
 * The OpenTelemetry SDK a scenario runs against, passed in by each suite:
 * `test/*.test.ts` with the 2.x line (Node 20+), and
 * `tooling/compat/otel3/test/*.node22.test.ts` with the 3.x line (Node 22.15+).
 * Only the shapes the scenarios use are described here, as method
 * signatures, so both lines' classes fit without importing either.
 */
import type { ExportableSpan, SpanExportResult, TelemeterSpanExporterOptions } from '../../src/index.js'

export interface SpanLike {
  setAttribute(key: string, value: string | number | boolean): unknown
  recordException(exception: Error): void
  setStatus(status: { code: number; message?: string }): unknown
  end(endTime?: Date): void
  spanContext(): { traceId: string; spanId: string }
}

export interface StartSpanOptions {
  kind?: number
  attributes?: Record<string, string | number | boolean | string[]>
  startTime?: Date
}

export interface TracerLike {
  startSpan(name: string, options?: StartSpanOptions, context?: unknown): SpanLike
}

export interface TracerProviderLike {
  getTracer(name: string): TracerLike
  forceFlush(): Promise<void>
  shutdown(): Promise<void>
}

export interface ExporterLike {
  export(spans: readonly ExportableSpan[], resultCallback: (result: SpanExportResult) => void): void
  forceFlush(): Promise<void>
  shutdown(): Promise<void>
}

/** A span processor (both lines). */
export interface SpanProcessorLike {
  onStart(span: unknown, parentContext: unknown): void
  onEnd(span: unknown): void
  forceFlush(): Promise<void>
  shutdown(): Promise<void>
}

export interface InMemoryExporterLike {
  getFinishedSpans(): ExportableSpan[]
}

export interface HttpInstrumentationConfigLike {
  headersToSpanAttributes?: { server?: { requestHeaders?: string[]; responseHeaders?: string[] } }
  ignoreOutgoingRequestHook?: (request: { headers?: unknown }) => boolean
  ignoreIncomingRequestHook?: (request: { headers?: unknown }) => boolean
}

export interface InstrumentationLike {
  instrumentationName: string
  instrumentationVersion: string
  enable(): void
  disable(): void
  setTracerProvider(tracerProvider: unknown): void
  setMeterProvider(meterProvider: unknown): void
  setConfig(config: unknown): void
  getConfig(): { enabled?: boolean }
}

export interface NodeSdkLike {
  start(): void
  shutdown(): Promise<void>
}

export interface NodeSdkConfigLike {
  spanProcessors: SpanProcessorLike[]
  instrumentations: InstrumentationLike[]
  logRecordProcessors: []
  metricReaders: []
  resourceDetectors: []
}

export interface OtelSdk {
  /** `2.x` or `3.x`, for test names. */
  readonly line: string
  readonly TracerProvider: new (config: { spanProcessors: SpanProcessorLike[] }) => TracerProviderLike
  /** `new SimpleSpanProcessor(exporter)` (2.x) or `new SimpleSpanProcessor({ exporter })` (3.x). */
  simpleProcessor(exporter: ExporterLike): SpanProcessorLike
  /** `new BatchSpanProcessor(exporter, options)` (2.x) or `new BatchSpanProcessor({ exporter, ...options })` (3.x). */
  batchProcessor(exporter: ExporterLike, options: { scheduledDelayMillis: number }): SpanProcessorLike
  readonly InMemorySpanExporter: new () => InMemoryExporterLike & ExporterLike
  readonly NodeSDK: new (config: NodeSdkConfigLike) => NodeSdkLike
  readonly HttpInstrumentation: new (config?: HttpInstrumentationConfigLike) => InstrumentationLike
  /** `@opentelemetry/instrumentation-undici`, where the suite has it (fetch client spans). */
  readonly UndiciInstrumentation?: new () => InstrumentationLike
  /** The suite's `@opentelemetry/api` (its globals are the SDK's). */
  readonly api: ApiLike
  /** The package under test: the source for 2.x, the published build for 3.x. */
  readonly otel: {
    readonly TelemeterSpanExporter: new (options: TelemeterSpanExporterOptions) => ExporterLike
    isTelemeterRequest(request: { readonly headers?: unknown }): boolean
  }
}

/** What the scenarios use of `@opentelemetry/api`. */
export interface ApiLike {
  readonly ROOT_CONTEXT: unknown
  readonly trace: {
    setSpan(context: unknown, span: SpanLike): unknown
    getActiveSpan(): SpanLike | undefined
    disable(): void
  }
  readonly context: { disable(): void }
  readonly propagation: { disable(): void }
}

export const SPAN_KIND = { INTERNAL: 0, SERVER: 1, CLIENT: 2 } as const
export const STATUS_CODE = { OK: 1, ERROR: 2 } as const
