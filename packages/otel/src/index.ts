export { TelemeterSpanExporter } from './internal/exporter.js'
export { isTelemeterRequest } from './internal/request-hook.js'
export type {
  ExportableSpan,
  ExportableSpanEvent,
  SpanExportResult,
  SpanTime,
  TelemeterSpanExporterOptions,
} from './types.js'
