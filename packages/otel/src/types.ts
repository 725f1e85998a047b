/**
 * Public types of `@telemeter/otel`. Spans are described by a small local
 * interface rather than the SDK's `ReadableSpan`, so the package needs no
 * OpenTelemetry SDK at run time and accepts spans of SDK 1.x, 2.x and 3.x.
 */
import type { Telemeter } from '@telemeter/core'

/**
 * A span time: `[seconds, nanoseconds]` as in OpenTelemetry's `HrTime`.
 * @example const start: SpanTime = [1_700_000_000, 250_000_000] // 2023-11-14T22:13:20.250Z
 */
export type SpanTime = readonly [number, number]

/**
 * A span event (`span.addEvent()`, `span.recordException()`).
 *
 * @example
 * const event: ExportableSpanEvent = { name: 'exception', attributes: { 'exception.type': 'TypeError' } }
 */
export interface ExportableSpanEvent {
  readonly name: string
  readonly time?: SpanTime
  readonly attributes?: Readonly<Record<string, unknown>>
}

/**
 * What the exporter reads of a finished span: a subset of the SDK's
 * `ReadableSpan`, which every SDK version's span satisfies. Fields that
 * moved between SDK versions are listed under both names.
 *
 * @example
 * const filter = (span: ExportableSpan) => span.attributes['http.route'] !== '/internal'
 */
export interface ExportableSpan {
  readonly name: string
  /** `SpanKind`: 0 internal, 1 server, 2 client, 3 producer, 4 consumer. */
  readonly kind: number
  readonly spanContext: () => { readonly traceId: string; readonly spanId: string }
  /** Parent of the span (SDK 2.x and 3.x). */
  readonly parentSpanContext?: { readonly spanId: string }
  /** Parent span id (SDK 1.x). */
  readonly parentSpanId?: string
  readonly startTime: SpanTime
  readonly endTime: SpanTime
  /** Duration; computed from start and end when absent. */
  readonly duration?: SpanTime
  /** `SpanStatusCode`: 0 unset, 1 ok, 2 error. */
  readonly status: { readonly code: number; readonly message?: string }
  readonly attributes: Readonly<Record<string, unknown>>
  readonly events: readonly ExportableSpanEvent[]
  /** Instrumentation that made the span (SDK 1.10+, 2.x and 3.x). */
  readonly instrumentationScope?: { readonly name: string; readonly version?: string }
  /** Instrumentation that made the span (SDK 1.x). */
  readonly instrumentationLibrary?: { readonly name: string; readonly version?: string }
}

/**
 * The result an exporter hands to the span processor: `code` 0 is success,
 * 1 is failure (`ExportResultCode`).
 *
 * @example
 * exporter.export(spans, (result) => { if (result.code !== 0) console.error(result.error) })
 */
export interface SpanExportResult {
  code: number
  error?: Error
}

/**
 * Options of {@link TelemeterSpanExporter}. Only `telemeter` is required.
 *
 * @example
 * ```ts
 * new TelemeterSpanExporter({
 *   telemeter,
 *   deviceId: (span) => span.attributes['tenant.id'] as string | undefined,
 *   filter: (span) => span.name !== 'tcp.connect',
 *   sampleRate: 0.25,
 * })
 * ```
 */
export interface TelemeterSpanExporterOptions {
  /** The Telemeter that receives the traces and crash reports. */
  telemeter: Telemeter
  /**
   * Device id of a span that carries no `enduser.id` / `user.id` attribute.
   * When it returns nothing, the Telemeter's own device is used.
   * @default undefined
   * @example deviceId: (span) => span.attributes['tenant.id'] as string | undefined
   */
  deviceId?(span: ExportableSpan): string | number | null | undefined
  /**
   * Return `false` to leave a span out entirely (no trace, no crash).
   * @default every span is exported
   * @example filter: (span) => !span.name.startsWith('dns.')
   */
  filter?(span: ExportableSpan): boolean
  /**
   * Fraction of spans turned into traces, from 0 to 1. Spans with an error
   * (an exception event, a 5xx) are always traced.
   * @default 1
   */
  sampleRate?: number
  /**
   * Turn spans that are neither HTTP server nor HTTP client spans into custom
   * (device) traces. `false` exports HTTP traffic and exceptions only.
   * @default true
   */
  customTraces?: boolean
  /**
   * Also report spans with an ERROR status but no `exception` event as crash
   * reports. (HTTP server spans answered with a 5xx are crash reports anyway,
   * as in the Express, Koa and Nest adapters.)
   * @default false
   */
  reportErrorStatus?: boolean
  /**
   * Sessions per device (from `enduser.id` / `user.id` / `deviceId`): begin
   * on the first span, end after `sessionIdleMs` of silence.
   * @default true
   */
  sessions?: boolean
  /** Silence after which a device's session ends. @default 1_800_000 (30 minutes) */
  sessionIdleMs?: number
  /**
   * Set `false` to also export health, readiness, metrics, favicon and
   * OPTIONS requests, which are left out by default.
   * @default true
   */
  ignoreDefaults?: boolean
  /**
   * Let `shutdown()` also shut the Telemeter down. Off by default: the span
   * processor shuts its exporter down when the OpenTelemetry SDK stops, and
   * the Telemeter usually outlives it (other adapters, events and crash
   * reports the application records during its own shutdown).
   * @default false
   */
  shutdownTelemeter?: boolean
  /** Longest wait of `forceFlush()` and `shutdown()` for delivery. @default 5_000 */
  flushTimeoutMs?: number
}
