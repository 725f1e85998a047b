/**
 * OpenTelemetry enum values as plain numbers: the exporter reads spans
 * without loading `@opentelemetry/api` or an SDK package at run time.
 */
export const SPAN_KIND_SERVER = 1
export const SPAN_KIND_CLIENT = 2
export const STATUS_CODE_ERROR = 2
export const EXPORT_SUCCESS = 0
export const EXPORT_FAILED = 1

/** `span.recordException()` records an event of this name (semantic conventions). */
export const EXCEPTION_EVENT = 'exception'

export const DEFAULT_FLUSH_TIMEOUT_MS = 5_000
/** Exceptions remembered to report each one once, even when several spans of a trace record it. */
export const MAX_REMEMBERED_EXCEPTIONS = 1_000
