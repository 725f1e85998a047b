import type { ExportableSpan, SpanTime } from '../types.js'

/** Epoch milliseconds of a span time (`[seconds, nanoseconds]`, or milliseconds from hand-made spans). */
export function timeMs(time: SpanTime | number | undefined): number | undefined {
  if (typeof time === 'number') return Number.isFinite(time) ? time : undefined
  if (!Array.isArray(time)) return undefined
  const [seconds, nanos] = time as SpanTime
  const ms = seconds * 1_000 + nanos / 1_000_000
  return Number.isFinite(ms) ? ms : undefined
}

export interface SpanTiming {
  /** Start, epoch ms. */
  readonly startMs: number
  /** Duration, ms (never negative). */
  readonly durationMs: number
}

/** The span's own start and duration: the SDK's `duration` when present, else end minus start. */
export function timingOf(span: ExportableSpan): SpanTiming | undefined {
  const startMs = timeMs(span.startTime)
  if (startMs === undefined) return undefined
  let durationMs = timeMs(span.duration)
  if (durationMs === undefined || durationMs < 0) {
    const endMs = timeMs(span.endTime)
    durationMs = endMs === undefined ? 0 : endMs - startMs
  }
  return { startMs, durationMs: Math.max(0, durationMs) }
}

export interface SpanIds {
  readonly traceId: string | undefined
  readonly spanId: string | undefined
  /** `parentSpanContext.spanId` (SDK 2.x, 3.x) or `parentSpanId` (SDK 1.x). */
  readonly parentSpanId: string | undefined
}

export function idsOf(span: ExportableSpan): SpanIds {
  let traceId: string | undefined
  let spanId: string | undefined
  try {
    const context = typeof span.spanContext === 'function' ? span.spanContext() : undefined
    traceId = typeof context?.traceId === 'string' ? context.traceId : undefined
    spanId = typeof context?.spanId === 'string' ? context.spanId : undefined
  } catch {
    // A hand-made span with a broken spanContext(): report it without ids.
  }
  const parent = span.parentSpanContext?.spanId ?? span.parentSpanId
  return { traceId, spanId, parentSpanId: typeof parent === 'string' ? parent : undefined }
}

/** Name of the instrumentation that made the span (`instrumentationScope`, or SDK 1.x `instrumentationLibrary`). */
export function scopeNameOf(span: ExportableSpan): string | undefined {
  const scope = span.instrumentationScope ?? span.instrumentationLibrary
  return typeof scope?.name === 'string' && scope.name !== '' ? scope.name : undefined
}

/** Attributes of a span or an event; anything that is not an object reads as none. */
export function attributesOf(
  holder: { readonly attributes?: Readonly<Record<string, unknown>> } | undefined,
): Readonly<Record<string, unknown>> {
  const attributes = holder?.attributes
  return typeof attributes === 'object' && attributes !== null ? attributes : EMPTY
}

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({})

/** A string attribute (first item of a string array, as captured headers are). */
export function stringAttribute(
  attributes: Readonly<Record<string, unknown>>,
  key: string,
): string | undefined {
  const value = attributes[key]
  if (typeof value === 'string') return value === '' ? undefined : value
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0] === '' ? undefined : value[0]
  return undefined
}

/** A number attribute; numeric strings and one-item arrays (captured headers) are read too. */
export function numberAttribute(
  attributes: Readonly<Record<string, unknown>>,
  key: string,
): number | undefined {
  const raw = attributes[key]
  const value: unknown = Array.isArray(raw) ? raw[0] : raw
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined
  const text = value
  if (typeof text !== 'string' || text.trim() === '') return undefined
  const parsed = Number(text)
  return Number.isFinite(parsed) ? parsed : undefined
}
