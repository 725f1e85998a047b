import type {
  CaptureErrorOptions,
  DeviceScope,
  EventOptions,
  Feature,
  TraceHandle,
  TraceOptions,
} from '../types.js'
import { reportTraceOf, startTraceOf } from './apm.js'
import type { TelemeterCore } from './client.js'
import { addBreadcrumbOf, captureErrorOf } from './crash.js'
import type { DeviceState } from './devices.js'
import { cancelEventOf, endEventOf, recordEvent, startEventOf } from './events.js'
import { beginSessionOf, endSessionOf, extendSessionOf } from './session.js'

/**
 * Run a public method body so that nothing escapes into the host: after
 * shutdown calls are refused, and any internal failure is logged and emitted.
 */
export function guard(
  core: TelemeterCore,
  method: string,
  feature: Feature | 'internal',
  body: () => void,
): void {
  try {
    if (core.closed) {
      core.logger.warnOnce(`closed:${method}`, `${method}() called after shutdown(); ignored`)
      core.refuse(feature, 'shutdown', 0)
      return
    }
    body()
  } catch (error) {
    core.logger.warnOnce(`internal:${method}`, `${method}() failed internally: ${(error as Error)?.message}`)
    core.reportError(error instanceof Error ? error : new Error(String(error)))
  }
}

/** The recording surface for one device. */
export class Scope implements DeviceScope {
  constructor(
    protected readonly core: TelemeterCore,
    /** undefined: the instance's own device, whose id may change. */
    private readonly fixedId: string | undefined,
  ) {}

  get deviceId(): string {
    return this.fixedId ?? this.core.self.id
  }

  protected state(): DeviceState {
    return this.fixedId === undefined ? this.core.self : this.core.device(this.fixedId)
  }

  event(key: string, options?: EventOptions): void {
    // Hot path: no closure, same guarantees as guard().
    const core = this.core
    try {
      if (core.closed) return guard(core, 'event', 'events', () => {})
      recordEvent(core, this.state(), key, options)
    } catch (error) {
      core.reportError(error instanceof Error ? error : new Error(String(error)))
    }
  }

  startEvent(key: string): void {
    guard(this.core, 'startEvent', 'events', () => startEventOf(this.core, this.state(), key))
  }

  endEvent(key: string, options?: EventOptions): void {
    guard(this.core, 'endEvent', 'events', () => endEventOf(this.core, this.state(), key, options))
  }

  cancelEvent(key: string): void {
    guard(this.core, 'cancelEvent', 'events', () => cancelEventOf(this.core, this.state(), key))
  }

  beginSession(): void {
    guard(this.core, 'beginSession', 'sessions', () => beginSessionOf(this.core, this.state()))
  }

  extendSession(): void {
    guard(this.core, 'extendSession', 'sessions', () => extendSessionOf(this.core, this.state()))
  }

  endSession(): void {
    guard(this.core, 'endSession', 'sessions', () => endSessionOf(this.core, this.state()))
  }

  captureError(error: unknown, options?: CaptureErrorOptions): void {
    guard(this.core, 'captureError', 'crashes', () => captureErrorOf(this.core, this.state(), error, options))
  }

  addBreadcrumb(message: string): void {
    guard(this.core, 'addBreadcrumb', 'crashes', () => addBreadcrumbOf(this.core, this.state(), message))
  }

  reportTrace(trace: TraceOptions): void {
    guard(this.core, 'reportTrace', 'apm', () => reportTraceOf(this.core, this.state(), trace))
  }

  startTrace(key: string): TraceHandle {
    let handle: TraceHandle = NOOP_TRACE
    guard(this.core, 'startTrace', 'apm', () => {
      handle = startTraceOf(this.core, this.state(), key)
    })
    return handle
  }
}

const NOOP_TRACE: TraceHandle = Object.freeze({ end() {} })

/** What `forDevice()` returns for an unusable id: records nothing, says why once. */
export class RefusingScope implements DeviceScope {
  readonly deviceId = ''
  constructor(private readonly core: TelemeterCore) {}
  private refuse(): void {
    this.core.refuse('internal', 'invalid', 0, 'invalid device id')
  }
  event(): void {
    this.core.refuse('events', 'invalid', 1, 'invalid device id')
  }
  startEvent(): void {}
  endEvent(): void {
    this.core.refuse('events', 'invalid', 1, 'invalid device id')
  }
  cancelEvent(): void {}
  beginSession(): void {
    this.refuse()
  }
  extendSession(): void {}
  endSession(): void {}
  captureError(): void {
    this.refuse()
  }
  addBreadcrumb(): void {}
  reportTrace(): void {
    this.refuse()
  }
  startTrace(): TraceHandle {
    return NOOP_TRACE
  }
}
