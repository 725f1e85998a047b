import type { IncomingHttpHeaders } from 'node:http'
import type {
  HttpInstrumentation,
  HttpInstrumentationOptions,
  HttpRequestFacts,
  HttpRequestRecord,
  HttpResponseFacts,
  IgnoreRule,
  Telemeter,
} from '../types.js'
import { reportTraceOf } from './apm.js'
import { coreOf, type TelemeterCore } from './client.js'
import { DEFAULT_DEVICE_IDLE_MS, MAX_DEVICE_ID_LENGTH } from './config.js'
import { captureErrorOf } from './crash.js'
import type { DeviceState } from './devices.js'
import { cleanDeviceId } from './sanitize.js'
import { Scope } from './scope.js'
import { touchSessionOf } from './session.js'
import { TELEMETER_REQUEST_HEADER } from './transport.js'

/** Paths of probes and tooling that are not product traffic. */
export const DEFAULT_IGNORED_PATHS: readonly (string | RegExp)[] = Object.freeze([
  /^\/(health|healthz|healthcheck|_health|ready|readyz|readiness|live|livez|liveness|ping|status)(\/.*)?$/i,
  '/metrics',
  '/favicon.ico',
])
export const DEFAULT_DEVICE_ID_HEADER = 'x-device-id'
export const UNKNOWN_ROUTE = 'unknown route'

interface ResolvedHttpOptions<Req> {
  readonly deviceId: ((req: Req) => unknown) | undefined
  readonly rules: readonly IgnoreRule<Req>[]
  readonly ignoreOptions: boolean
  readonly sampleRate: number
  readonly sampler: ((req: Req) => boolean) | undefined
  readonly shouldCaptureError: ((error: unknown, req: Req) => boolean) | undefined
  readonly sessions: boolean
  readonly sessionIdleMs: number
  readonly trackIp: boolean
  readonly deviceIdHeader: string
}

function resolve<Req>(
  core: TelemeterCore,
  options: HttpInstrumentationOptions<Req> | undefined,
): ResolvedHttpOptions<Req> {
  const given = options && typeof options === 'object' ? options : {}
  let sampleRate = 1
  if (given.sampleRate !== undefined) {
    if (typeof given.sampleRate === 'number' && given.sampleRate >= 0 && given.sampleRate <= 1)
      sampleRate = given.sampleRate
    else
      core.logger.warn(`sampleRate must be a number from 0 to 1, got ${String(given.sampleRate)}; 1 is used`)
  }
  const idle = given.sessionIdleMs
  return Object.freeze({
    deviceId: typeof given.deviceId === 'function' ? given.deviceId : undefined,
    rules: [
      ...(given.ignoreDefaults === false ? [] : DEFAULT_IGNORED_PATHS),
      ...(Array.isArray(given.ignore) ? given.ignore : []),
    ],
    ignoreOptions: given.ignoreDefaults !== false,
    sampleRate,
    sampler: typeof given.sampler === 'function' ? given.sampler : undefined,
    shouldCaptureError: typeof given.shouldCaptureError === 'function' ? given.shouldCaptureError : undefined,
    sessions: given.sessions !== false,
    sessionIdleMs:
      typeof idle === 'number' && Number.isFinite(idle) && idle >= 1_000 ? idle : DEFAULT_DEVICE_IDLE_MS,
    trackIp: given.trackIp === true,
    deviceIdHeader: (typeof given.deviceIdHeader === 'string'
      ? given.deviceIdHeader
      : DEFAULT_DEVICE_ID_HEADER
    ).toLowerCase(),
  })
}

/** `status` / `statusCode` / `status_code` of an error, when it carries one. */
export function errorStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const candidate = error as { status?: unknown; statusCode?: unknown; status_code?: unknown }
  for (const value of [candidate.status, candidate.statusCode, candidate.status_code]) {
    if (typeof value === 'number' && value >= 100 && value <= 599) return value
  }
  return undefined
}

/** By default only server errors are crashes: no 4xx, no `expose: true` (errors meant for the client). */
export function isServerError(error: unknown): boolean {
  const status = errorStatus(error)
  if (status !== undefined) return status >= 500
  return !(typeof error === 'object' && error !== null && (error as { expose?: unknown }).expose === true)
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

function userId(user: unknown): unknown {
  if (typeof user !== 'object' || user === null) return undefined
  const candidate = user as { id?: unknown; _id?: unknown }
  const id = candidate.id ?? candidate._id
  // Mongo ObjectIds and similar: anything with a meaningful toString.
  if (
    typeof id === 'object' &&
    id !== null &&
    typeof (id as { toString?: unknown }).toString === 'function'
  ) {
    const text = String(id)
    return text === '[object Object]' ? undefined : text
  }
  return id
}

class Instrumentation<Req> implements HttpInstrumentation<Req> {
  private readonly options: ResolvedHttpOptions<Req>

  constructor(
    private readonly core: TelemeterCore,
    options: HttpInstrumentationOptions<Req> | undefined,
  ) {
    this.options = resolve(core, options)
  }

  start(req: Req, facts: HttpRequestFacts): HttpRequestRecord | undefined {
    try {
      if (this.ignored(req, facts)) return undefined
      const startedAt = performance.now()
      const scope = new RequestScope(this.core, this, req, facts)
      return {
        scope,
        startedAt,
        startedAtMs: Date.now(),
        method: facts.method.toUpperCase(),
        sampled: this.sampled(req),
        errorReported: false,
      }
    } catch (error) {
      this.core.reportError(error as Error)
      return undefined
    }
  }

  captureError(record: HttpRequestRecord, error: unknown, req: Req, facts: HttpResponseFacts): boolean {
    try {
      if (record.errorReported) return false
      let capture = isServerError(error)
      if (this.options.shouldCaptureError) {
        try {
          capture = this.options.shouldCaptureError(error, req) === true
        } catch (hookError) {
          this.core.logger.warnOnce(
            'shouldCaptureError',
            `shouldCaptureError threw (${(hookError as Error)?.message}); default used`,
          )
        }
      }
      // Marked even when not captured: the same error must not come back as a 5xx crash.
      record.errorReported = true
      if (!capture) return false
      this.reportCrash(record, error, facts)
      return true
    } catch (internal) {
      this.core.reportError(internal as Error)
      return false
    }
  }

  finish(record: HttpRequestRecord, facts: HttpResponseFacts): void {
    try {
      const route = facts.route || UNKNOWN_ROUTE
      const status = facts.status
      // Resolve the device even when the trace is not sampled: its session counts every request.
      const deviceId = record.scope.deviceId
      if (status >= 500 && !record.errorReported) {
        record.errorReported = true
        const error = new Error(`${record.method} ${route} responded ${status}`)
        error.name = `HTTP ${status}`
        error.stack = `${error.name}: ${error.message}`
        this.reportCrash(record, error, facts)
      }
      if (!record.sampled && status < 500 && !record.errorReported) return
      const measured = facts.responseTimeMs
      const responseTime =
        typeof measured === 'number' && Number.isFinite(measured) && measured >= 0
          ? measured
          : Math.max(0, performance.now() - record.startedAt)
      const startedAtMs =
        typeof facts.startedAtMs === 'number' && Number.isFinite(facts.startedAtMs)
          ? facts.startedAtMs
          : record.startedAtMs
      const core = this.core
      reportTraceOf(core, core.device(deviceId), {
        type: 'network',
        name: `${record.method} ${route}`,
        stz: startedAtMs,
        etz: startedAtMs + responseTime,
        metrics: {
          response_time: Math.round(responseTime),
          response_code: status,
          request_payload_size: facts.requestBytes ?? 0,
          response_payload_size: facts.responseBytes ?? 0,
        },
      })
    } catch (error) {
      this.core.reportError(error as Error)
    }
  }

  private reportCrash(record: HttpRequestRecord, error: unknown, facts: HttpResponseFacts): void {
    const route = facts.route || UNKNOWN_ROUTE
    captureErrorOf(this.core, this.core.device(record.scope.deviceId), error, {
      segmentation: { method: record.method, route, status: facts.status },
    })
  }

  private ignored(req: Req, facts: HttpRequestFacts): boolean {
    if (facts.headers[TELEMETER_REQUEST_HEADER] !== undefined) return true
    if (this.options.ignoreOptions && facts.method === 'OPTIONS') return true
    for (const rule of this.options.rules) {
      if (typeof rule === 'string') {
        if (rule.endsWith('*') ? facts.path.startsWith(rule.slice(0, -1)) : facts.path === rule) return true
      } else if (rule instanceof RegExp) {
        rule.lastIndex = 0
        if (rule.test(facts.path)) return true
      } else if (typeof rule === 'function') {
        try {
          if (rule(req) === true) return true
        } catch (error) {
          this.core.logger.warnOnce(
            'ignore-rule',
            `an ignore rule threw (${(error as Error)?.message}); request kept`,
          )
        }
      }
    }
    return false
  }

  private sampled(req: Req): boolean {
    if (this.options.sampler) {
      try {
        return this.options.sampler(req) === true
      } catch (error) {
        this.core.logger.warnOnce('sampler', `sampler threw (${(error as Error)?.message}); request sampled`)
        return true
      }
    }
    return this.options.sampleRate >= 1 || Math.random() < this.options.sampleRate
  }

  /**
   * The device of a request (undefined: the instance's own), with its IP and
   * session. Runs once per request, when its scope is first used.
   */
  resolveDeviceId(req: Req, facts: HttpRequestFacts): string | undefined {
    let raw: unknown
    if (this.options.deviceId) {
      try {
        raw = this.options.deviceId(req)
      } catch (error) {
        this.core.logger.warnOnce(
          'deviceId-hook',
          `deviceId(req) threw (${(error as Error)?.message}); fallbacks used`,
        )
      }
    }
    const id =
      cleanDeviceId(raw, MAX_DEVICE_ID_LENGTH) ??
      cleanDeviceId(userId(facts.user), MAX_DEVICE_ID_LENGTH) ??
      cleanDeviceId(header(facts.headers, this.options.deviceIdHeader), MAX_DEVICE_ID_LENGTH)
    if (id === undefined || id === this.core.self.id) return undefined
    const device = this.core.device(id)
    if (this.options.trackIp && facts.ip) device.ip = facts.ip
    if (this.options.sessions && !this.core.closed)
      touchSessionOf(this.core, device, this.options.sessionIdleMs)
    return id
  }
}

/**
 * The scope of one request. Its device is resolved on first use (at the
 * latest when the error or the response is recorded), not when the request
 * starts, so a user that authentication middleware running after the adapter
 * sets (`req.user`, `ctx.state.user`) still decides it.
 */
class RequestScope<Req> extends Scope {
  private isResolved = false
  private resolvedId: string | undefined

  constructor(
    core: TelemeterCore,
    private owner: Instrumentation<Req> | undefined,
    private req: Req | undefined,
    private facts: HttpRequestFacts | undefined,
  ) {
    super(core, undefined)
  }

  private resolve(): string | undefined {
    if (!this.isResolved) {
      this.isResolved = true
      try {
        if (this.owner && this.facts)
          this.resolvedId = this.owner.resolveDeviceId(this.req as Req, this.facts)
      } catch (error) {
        this.core.reportError(error as Error)
      }
      // A handler may keep its scope long after the request: do not keep the request too.
      this.owner = undefined
      this.req = undefined
      this.facts = undefined
    }
    return this.resolvedId
  }

  override get deviceId(): string {
    return this.resolve() ?? this.core.self.id
  }

  protected override state(): DeviceState {
    const id = this.resolve()
    return id === undefined ? this.core.self : this.core.device(id)
  }
}

/**
 * The framework-neutral half of an HTTP adapter: which requests to record,
 * which device each belongs to (and its session), the network trace, and
 * which errors are crashes. Express, Koa and Nest adapters supply the
 * framework facts (route template, status, sizes) and nothing else.
 *
 * @example
 * ```ts
 * const http = createHttpInstrumentation(telemeter, { sampleRate: 0.5 })
 * const record = http.start(req, { method: req.method, path, headers: req.headers })
 * // ... when the response is done:
 * if (record) http.finish(record, { route: 'GET /users/:id', status: 200, requestBytes: 0, responseBytes: 120 })
 * ```
 */
export function createHttpInstrumentation<Req>(
  telemeter: Telemeter,
  options?: HttpInstrumentationOptions<Req>,
): HttpInstrumentation<Req> {
  const core = coreOf(telemeter)
  if (!core)
    throw new TypeError('[telemeter] createHttpInstrumentation needs a Telemeter from createTelemeter()')
  return new Instrumentation(core, options)
}

/**
 * Warn through the Telemeter's `[telemeter]` logger, once per `cause`: for
 * adapters that sanitise input themselves before handing it to core.
 *
 * @example
 * ```ts
 * warnOnce(telemeter, 'otel:metric-key', 'span attribute "db rows" sent as metric db_rows')
 * ```
 */
export function warnOnce(telemeter: Telemeter, cause: string, message: string): void {
  coreOf(telemeter)?.logger.warnOnce(cause, message)
}

/**
 * Like {@link warnOnce}, but only when the Telemeter runs with `debug`: for
 * adapters' setup self-checks (a missing error handler, a middleware
 * installed twice), which production logs should not carry.
 *
 * @example
 * ```ts
 * debugWarnOnce(telemeter, 'express:no-error-handler', 'telemeterErrorHandler is not installed')
 * ```
 */
export function debugWarnOnce(telemeter: Telemeter, cause: string, message: string): void {
  const core = coreOf(telemeter)
  if (core?.config.debug) core.logger.warnOnce(cause, message)
}

/**
 * Whether `target` (a URL, or host and port) is the Countly server this
 * Telemeter sends to: instrumentation that records outgoing requests uses
 * it to leave Telemeter's own traffic out (no feedback loop).
 *
 * @example
 * ```ts
 * if (isTelemeterServer(telemeter, span.attributes['url.full'])) return // skip
 * ```
 */
export function isTelemeterServer(
  telemeter: Telemeter,
  target: string | URL | { host: string; port?: number | string },
): boolean {
  const core = coreOf(telemeter)
  if (!core) return false
  const server = core.config.url
  const serverPort = server.port || (server.protocol === 'https:' ? '443' : '80')
  try {
    if (typeof target === 'string' || target instanceof URL) {
      const url = typeof target === 'string' ? new URL(target) : target
      const port = url.port || (url.protocol === 'https:' ? '443' : '80')
      return (
        url.hostname === server.hostname &&
        port === serverPort &&
        url.pathname.startsWith(server.pathname.replace(/\/+$/, ''))
      )
    }
    const host = target.host.replace(/^\[|\]$/g, '')
    return (
      host === server.hostname.replace(/^\[|\]$/g, '') &&
      (target.port === undefined || String(target.port) === serverPort)
    )
  } catch {
    return false
  }
}
