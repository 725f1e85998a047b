import os from 'node:os'
import type { CaptureErrorOptions } from '../types.js'
import type { TelemeterCore } from './client.js'
import type { DeviceState } from './devices.js'
import { osName, osVersion } from './environment.js'

const MAX_CAUSE_DEPTH = 5
const MAX_MESSAGE_LENGTH = 1_000
const MB = 1024 * 1024

interface ErrorText {
  readonly name: string
  readonly stack: string
}

function safeString(value: unknown): string {
  try {
    if (typeof value === 'string') return value
    if (value === undefined) return 'undefined'
    if (typeof value === 'symbol') return value.toString()
    if (typeof value === 'object' && value !== null) {
      const seen = new WeakSet<object>()
      const json = JSON.stringify(value, (_key, inner: unknown) => {
        if (typeof inner === 'bigint') return inner.toString()
        if (typeof inner === 'object' && inner !== null) {
          if (seen.has(inner)) return '[Circular]'
          seen.add(inner)
        }
        return inner
      })
      if (json !== undefined && json !== '{}') return json.slice(0, MAX_MESSAGE_LENGTH)
    }
    return String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}

/** Name and stack text of anything thrown: Errors, strings, plain objects, null. */
export function describeThrown(error: unknown): ErrorText {
  if (
    error instanceof Error ||
    (typeof error === 'object' && error !== null && 'stack' in error && 'message' in error)
  ) {
    const err = error as Error
    const name = typeof err.name === 'string' && err.name ? err.name : 'Error'
    const message = safeString(err.message ?? '')
    const header = message ? `${name}: ${message}` : name
    let stack = typeof err.stack === 'string' && err.stack ? err.stack : header
    if (!stack.startsWith(name) && !stack.includes(message)) stack = `${header}\n${stack}`
    let cause: unknown = (err as { cause?: unknown }).cause
    for (let depth = 0; cause !== undefined && depth < MAX_CAUSE_DEPTH; depth++) {
      const inner = describeThrown(cause)
      stack += `\nCaused by: ${inner.stack}`
      cause = cause instanceof Error ? (cause as { cause?: unknown }).cause : undefined
    }
    return { name: header.split('\n')[0]!.slice(0, MAX_MESSAGE_LENGTH), stack }
  }
  const text = error === null ? 'null' : safeString(error)
  const kind = error === null ? 'null' : typeof error === 'object' ? 'Object' : typeof error
  const header = `Non-Error thrown (${kind}): ${text}`.slice(0, MAX_MESSAGE_LENGTH)
  return { name: header.split('\n')[0]!, stack: header }
}

/** At most `maxLines` lines of at most `maxLineLength` characters (the Countly SDK stack limits). */
export function limitStack(stack: string, maxLines: number, maxLineLength: number): string {
  const lines = stack.split('\n')
  return lines
    .slice(0, maxLines)
    .map((line) => (line.length > maxLineLength ? line.slice(0, maxLineLength) : line))
    .join('\n')
}

/** Breadcrumbs are per device and bounded: the oldest go first. */
export function addBreadcrumbOf(core: TelemeterCore, device: DeviceState, message: unknown): void {
  if (core.gate.refusal('crashes', device)) return
  if (typeof message !== 'string' || message === '') {
    core.logger.warnOnce('breadcrumb', 'addBreadcrumb needs a non-empty string; ignored')
    return
  }
  const crumbs = (device.breadcrumbs ??= [])
  crumbs.push(core.sanitizer.string(message, core.settings.limits.valueSize, 'breadcrumb'))
  if (crumbs.length > core.settings.limits.breadcrumbCount)
    crumbs.splice(0, crumbs.length - core.settings.limits.breadcrumbCount)
}

/** The crash object of PROTOCOL §2.11, with every field the server requires always present. */
export function buildCrash(
  core: TelemeterCore,
  device: DeviceState,
  error: unknown,
  options: CaptureErrorOptions | undefined,
): Record<string, unknown> {
  const { name, stack } = describeThrown(error)
  const { stackTraceLines, stackTraceLineLength } = core.settings.limits
  const memory = process.memoryUsage()
  // The configured `metrics` override the platform facts here too, as in the official SDKs.
  const metrics = core.config.metrics
  const crash: Record<string, unknown> = {
    _os: metrics._os || osName(),
    _os_version: metrics._os_version || osVersion(),
    _app_version: metrics._app_version || core.appVersion,
    _error: limitStack(stack, stackTraceLines, stackTraceLineLength),
    _name: name,
    _nonfatal: options?.fatal !== true,
    _run: Math.round(process.uptime()),
    _ram_current: Math.round(memory.rss / MB),
    _ram_total: Math.round(os.totalmem() / MB),
    _architecture: process.arch,
  }
  if (device.breadcrumbs && device.breadcrumbs.length > 0) {
    crash._logs = device.breadcrumbs.join('\n')
    device.breadcrumbs = undefined
  }
  const custom = core.sanitizer.segmentation(options?.segmentation, 'crash segmentation')
  if (custom) crash._custom = custom
  return crash
}

export function captureErrorOf(
  core: TelemeterCore,
  device: DeviceState,
  error: unknown,
  options: CaptureErrorOptions | undefined,
): void {
  const refusal = core.gate.refusal('crashes', device)
  if (refusal) return core.refuse('crashes', refusal, 0)
  const crash = buildCrash(core, device, error, options && typeof options === 'object' ? options : undefined)
  // A crash never overtakes the events recorded before it.
  core.flushDevice(device)
  core.enqueue(device, 'crashes', { crash }, 0)
}

/**
 * `captureUncaught`: report uncaught exceptions (and unhandled rejections
 * Node raises as exceptions) as fatal crashes and write them to disk
 * synchronously. Uses `uncaughtExceptionMonitor`, which observes without
 * changing Node's behaviour: the process still prints the error and exits
 * with the same code. Returns the uninstaller.
 */
export function installUncaughtCapture(core: TelemeterCore, device: () => DeviceState): () => void {
  const monitor = (error: unknown, origin: string) => {
    try {
      if (core.closed) return
      captureErrorOf(core, device(), error, {
        fatal: true,
        segmentation: {
          origin: origin === 'unhandledRejection' ? 'unhandledRejection' : 'uncaughtException',
        },
      })
      core.flushPending()
      // Node ends the process unless the app handles uncaught exceptions itself.
      core.persistNow(process.listenerCount('uncaughtException') === 0)
    } catch {
      // Never add a second failure to a dying process.
    }
  }
  process.on('uncaughtExceptionMonitor', monitor)
  return () => process.off('uncaughtExceptionMonitor', monitor)
}
