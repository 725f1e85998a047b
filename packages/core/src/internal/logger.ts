import type { Logger } from '../types.js'

const PREFIX = '[telemeter]'
const MAX_REMEMBERED_WARNINGS = 1_000

/**
 * The `[telemeter]` logger. Warnings about the host's input are said once per
 * distinct cause: a bad segmentation key recorded a million times is one line.
 */
export class TelemeterLogger {
  private readonly warned = new Set<string>()

  constructor(
    private readonly sink: Logger,
    private readonly verbose: boolean,
    private readonly onWarn?: () => void,
  ) {}

  static create(debug: boolean, custom: Logger | undefined, onWarn?: () => void): TelemeterLogger {
    return new TelemeterLogger(custom ?? console, debug, onWarn)
  }

  debug(message: string, ...details: unknown[]): void {
    if (this.verbose) this.call('debug', message, details)
  }

  info(message: string, ...details: unknown[]): void {
    if (this.verbose) this.call('info', message, details)
  }

  /** Information the operator should see even without `debug` (state changes, not per-request chatter). */
  notice(message: string, ...details: unknown[]): void {
    this.call('info', message, details)
  }

  warn(message: string, ...details: unknown[]): void {
    this.onWarn?.()
    this.call('warn', message, details)
  }

  error(message: string, ...details: unknown[]): void {
    this.call('error', message, details)
  }

  /** Warn the first time `cause` happens; later occurrences are silent. */
  warnOnce(cause: string, message: string): void {
    if (this.warned.has(cause)) return
    if (this.warned.size >= MAX_REMEMBERED_WARNINGS) this.warned.clear()
    this.warned.add(cause)
    this.onWarn?.()
    this.call('warn', message, [])
  }

  private call(level: keyof Logger, message: string, details: unknown[]): void {
    try {
      this.sink[level](`${PREFIX} ${message}`, ...details)
    } catch {
      // A broken logger must not break the host either.
    }
  }
}
