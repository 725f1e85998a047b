import {
  createHttpInstrumentation,
  type DeviceScope,
  type HttpInstrumentation,
  type HttpRequestRecord,
  isTelemeterServer,
  type Telemeter,
  warnOnce,
} from '@telemeter/core'
import type { ExportableSpan, SpanExportResult, TelemeterSpanExporterOptions } from '../types.js'
import { ApmNames } from './apm-names.js'
import {
  DEFAULT_FLUSH_TIMEOUT_MS,
  EXPORT_FAILED,
  EXPORT_SUCCESS,
  SPAN_KIND_CLIENT,
  SPAN_KIND_SERVER,
  STATUS_CODE_ERROR,
} from './constants.js'
import { ExceptionMemory, exceptionsOf, type SpanException } from './exceptions.js'
import { type HttpSpanFacts, httpFactsOf, httpMethodOf, templatePath } from './http-span.js'
import { attributesOf, idsOf, type SpanTiming, scopeNameOf, timingOf } from './span.js'

interface ResolvedOptions {
  readonly customTraces: boolean
  readonly reportErrorStatus: boolean
  readonly shutdownTelemeter: boolean
  readonly flushTimeoutMs: number
  readonly deviceId: TelemeterSpanExporterOptions['deviceId'] | undefined
  readonly filter: TelemeterSpanExporterOptions['filter'] | undefined
}

function resolve(options: TelemeterSpanExporterOptions): ResolvedOptions {
  const timeout = options.flushTimeoutMs
  return Object.freeze({
    customTraces: options.customTraces !== false,
    reportErrorStatus: options.reportErrorStatus === true,
    shutdownTelemeter: options.shutdownTelemeter === true,
    flushTimeoutMs:
      typeof timeout === 'number' && Number.isFinite(timeout) && timeout >= 0
        ? timeout
        : DEFAULT_FLUSH_TIMEOUT_MS,
    deviceId: typeof options.deviceId === 'function' ? options.deviceId : undefined,
    filter: typeof options.filter === 'function' ? options.filter : undefined,
  })
}

/** `enduser.id` / `user.id`: a non-empty string or a finite number. */
function userIdOf(attributes: Readonly<Record<string, unknown>>): string | number | undefined {
  for (const key of ['enduser.id', 'user.id']) {
    const value = attributes[key]
    if (
      (typeof value === 'string' && value.trim() !== '') ||
      (typeof value === 'number' && Number.isFinite(value))
    )
      return value
  }
  return undefined
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** Resolve `promise`, or give up after `ms` without keeping the process alive. */
async function within(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms)
    timer.unref()
  })
  try {
    await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * An OpenTelemetry `SpanExporter` that turns finished spans into Countly APM
 * traces and crash reports through a Telemeter: HTTP server spans become
 * `network` traces named `<METHOD> <route>`, HTTP client spans `network`
 * traces named `<METHOD> <host><path>`, other spans custom traces with their
 * numeric attributes as metrics, and `exception` events crash reports.
 * Use it in any span processor.
 *
 * @example
 * ```ts
 * const sdk = new NodeSDK({
 *   spanProcessors: [new BatchSpanProcessor(new TelemeterSpanExporter({ telemeter }))],
 *   instrumentations: [new HttpInstrumentation({ ignoreOutgoingRequestHook: isTelemeterRequest })],
 * })
 * sdk.start()
 * ```
 */
export class TelemeterSpanExporter {
  private readonly telemeter: Telemeter
  private readonly options: ResolvedOptions
  private readonly http: HttpInstrumentation<ExportableSpan>
  private readonly names: ApmNames
  private readonly exceptions = new ExceptionMemory()
  private stopping: Promise<void> | undefined

  constructor(options: TelemeterSpanExporterOptions) {
    const telemeter = (options as Partial<TelemeterSpanExporterOptions> | undefined)?.telemeter
    if (typeof telemeter !== 'object' || telemeter === null)
      throw new TypeError('[telemeter] TelemeterSpanExporter needs { telemeter } from createTelemeter()')
    this.telemeter = telemeter
    this.options = resolve(options)
    const filter = this.options.filter
    this.http = createHttpInstrumentation<ExportableSpan>(telemeter, {
      deviceId: (span) => this.deviceIdOf(span),
      ignore: filter ? [(span: ExportableSpan) => !this.passes(filter, span)] : [],
      ignoreDefaults: options.ignoreDefaults !== false,
      sampleRate: options.sampleRate,
      sessions: options.sessions,
      sessionIdleMs: options.sessionIdleMs,
    })
    this.names = new ApmNames((kind, raw, why) =>
      warnOnce(
        telemeter,
        `otel:${kind}`,
        kind === 'trace-name'
          ? `span name "${raw}" cannot be made a custom trace key (${why}); such spans are not sent as traces`
          : `span attribute "${raw}" cannot be sent as a trace metric (${why}); such attributes are dropped`,
      ),
    )
  }

  /**
   * Convert `spans` and queue them in the Telemeter. The callback is called
   * exactly once, with success (0) or, after `shutdown()`, failure (1).
   */
  export(spans: readonly ExportableSpan[], resultCallback: (result: SpanExportResult) => void): void {
    let result: SpanExportResult
    if (this.stopping) {
      result = { code: EXPORT_FAILED, error: new Error('[telemeter] TelemeterSpanExporter is shut down') }
    } else {
      if (Array.isArray(spans)) for (const span of spans) this.exportSafely(span)
      result = { code: EXPORT_SUCCESS }
    }
    try {
      if (typeof resultCallback === 'function') resultCallback(result)
    } catch (error) {
      warnOnce(
        this.telemeter,
        'otel:callback',
        `the span processor's export callback threw (${errorMessage(error)})`,
      )
    }
  }

  /** Deliver what the Telemeter has queued (at most `flushTimeoutMs`). Never rejects. */
  async forceFlush(): Promise<void> {
    try {
      await within(this.telemeter.flush(), this.options.flushTimeoutMs)
    } catch (error) {
      warnOnce(this.telemeter, 'otel:flush', `flushing the Telemeter failed (${errorMessage(error)})`)
    }
  }

  /**
   * Stop exporting (later exports fail) and flush the Telemeter. The
   * Telemeter is shut down too only with `shutdownTelemeter: true`.
   * Idempotent; never rejects.
   */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      await this.forceFlush()
      if (!this.options.shutdownTelemeter) return
      try {
        await this.telemeter.shutdown({ timeoutMs: this.options.flushTimeoutMs })
      } catch (error) {
        warnOnce(
          this.telemeter,
          'otel:shutdown',
          `shutting the Telemeter down failed (${errorMessage(error)})`,
        )
      }
    })()
    return this.stopping
  }

  private exportSafely(span: ExportableSpan): void {
    try {
      if (typeof span !== 'object' || span === null) return
      const timing = timingOf(span)
      if (timing === undefined) {
        warnOnce(this.telemeter, 'otel:time', `span "${String(span.name)}" has no valid start time; skipped`)
        return
      }
      this.exportSpan(span, timing)
    } catch (error) {
      warnOnce(this.telemeter, 'otel:span', `a span could not be converted (${errorMessage(error)}); skipped`)
    }
  }

  private exportSpan(span: ExportableSpan, timing: SpanTiming): void {
    const attributes = attributesOf(span)
    const kind = span.kind
    const method =
      kind === SPAN_KIND_SERVER || kind === SPAN_KIND_CLIENT ? httpMethodOf(attributes) : undefined
    const facts = method === undefined ? undefined : httpFactsOf(attributes, method)
    if (facts && this.isTelemeterTraffic(facts)) return
    const record = this.http.start(span, {
      method: facts?.method ?? '',
      path: facts?.path ?? '',
      headers: facts?.headers ?? {},
    })
    if (record === undefined) return
    const name = typeof span.name === 'string' ? span.name : ''
    const where = facts ? this.httpWhere(kind, facts) : undefined
    const errorStatus = span.status?.code === STATUS_CODE_ERROR
    let crashed = this.reportExceptions(record, span, facts, where)
    if (kind === SPAN_KIND_SERVER && facts) {
      // A 5xx without an exception is core's to report, as for every HTTP adapter.
      if (!crashed && errorStatus && facts.status < 500 && this.options.reportErrorStatus)
        crashed = this.reportErrorStatus(record, span, facts, where)
      this.http.finish(record, {
        route: where || undefined,
        status: facts.status,
        requestBytes: facts.requestBytes,
        responseBytes: facts.responseBytes,
        startedAtMs: timing.startMs,
        responseTimeMs: timing.durationMs,
      })
      return
    }
    if (!crashed && errorStatus && this.options.reportErrorStatus)
      crashed = this.reportErrorStatus(record, span, facts, where)
    if (!record.sampled && !crashed && !errorStatus) return
    const stz = timing.startMs
    const etz = timing.startMs + timing.durationMs
    if (facts) {
      record.scope.reportTrace({
        type: 'network',
        name: `${facts.method} ${where}`,
        stz,
        etz,
        metrics: {
          response_time: Math.round(timing.durationMs),
          response_code: facts.status,
          request_payload_size: facts.requestBytes ?? 0,
          response_payload_size: facts.responseBytes ?? 0,
        },
      })
      return
    }
    if (!this.options.customTraces) return
    const key = this.names.traceName(name)
    if (key === undefined) return
    record.scope.reportTrace({
      type: 'device',
      name: key,
      stz,
      etz,
      metrics: { ...this.names.metrics(attributes), duration: Math.round(timing.durationMs) },
    })
  }

  /** Server: the route template, else the path with ids replaced. Client: host and path template. */
  private httpWhere(kind: number, facts: HttpSpanFacts): string {
    if (kind === SPAN_KIND_SERVER) return facts.route ?? templatePath(facts.path)
    const path = templatePath(facts.path) || '/'
    return facts.authority === undefined ? path : `${facts.authority}${path}`
  }

  /** Requests to (or, in a process that also runs the Countly stand-in, into) the Telemeter's server. */
  private isTelemeterTraffic(facts: HttpSpanFacts): boolean {
    if (facts.url !== undefined) return isTelemeterServer(this.telemeter, facts.url)
    if (facts.host !== undefined)
      return isTelemeterServer(this.telemeter, { host: facts.host, port: facts.port ?? 80 })
    return false
  }

  /** Every distinct `exception` event of the span as a non-fatal crash. True when one was reported. */
  private reportExceptions(
    record: HttpRequestRecord,
    span: ExportableSpan,
    facts: HttpSpanFacts | undefined,
    where: string | undefined,
  ): boolean {
    const exceptions = exceptionsOf(span)
    if (exceptions.length === 0) return false
    const ids = idsOf(span)
    let reported = false
    for (const exception of exceptions) {
      if (!this.exceptions.firstTime(ids.traceId, exception)) {
        // Already a crash through another span of this trace: still an error for this one.
        reported = true
        continue
      }
      this.crash(record.scope, exception, span, facts, where)
      reported = true
    }
    // Core must not add a crash for the same request's 5xx.
    if (reported) record.errorReported = true
    return reported
  }

  private reportErrorStatus(
    record: HttpRequestRecord,
    span: ExportableSpan,
    facts: HttpSpanFacts | undefined,
    where: string | undefined,
  ): boolean {
    const name = 'SpanError'
    const detail = typeof span.status.message === 'string' ? span.status.message : ''
    const message = detail === '' ? `${span.name} ended with status ERROR` : `${span.name}: ${detail}`
    this.crash(record.scope, { name, message, stack: `${name}: ${message}` }, span, facts, where)
    record.errorReported = true
    return true
  }

  private crash(
    scope: DeviceScope,
    exception: SpanException,
    span: ExportableSpan,
    facts: HttpSpanFacts | undefined,
    where: string | undefined,
  ): void {
    const ids = idsOf(span)
    const segmentation: Record<string, unknown> = facts
      ? { method: facts.method, route: where, status: facts.status }
      : { span: span.name }
    if (ids.traceId !== undefined) segmentation.trace_id = ids.traceId
    if (ids.spanId !== undefined) segmentation.span_id = ids.spanId
    const instrumentation = scopeNameOf(span)
    if (instrumentation !== undefined) segmentation.instrumentation = instrumentation
    scope.captureError(exception, { segmentation })
  }

  /** `enduser.id` / `user.id`, then the `deviceId(span)` option; undefined means the Telemeter's own device. */
  private deviceIdOf(span: ExportableSpan): string | number | undefined {
    const fromAttributes = userIdOf(attributesOf(span))
    if (fromAttributes !== undefined) return fromAttributes
    const hook = this.options.deviceId
    if (hook === undefined) return undefined
    try {
      return hook(span) ?? undefined
    } catch (error) {
      warnOnce(
        this.telemeter,
        'otel:deviceId',
        `deviceId(span) threw (${errorMessage(error)}); own device used`,
      )
      return undefined
    }
  }

  private passes(filter: NonNullable<ResolvedOptions['filter']>, span: ExportableSpan): boolean {
    try {
      return filter(span) !== false
    } catch (error) {
      warnOnce(this.telemeter, 'otel:filter', `filter(span) threw (${errorMessage(error)}); span exported`)
      return true
    }
  }
}
