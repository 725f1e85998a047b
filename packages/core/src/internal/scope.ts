import type {
  CaptureErrorOptions,
  ChangeDeviceIdOptions,
  ConversionOptions,
  DeviceScope,
  EventOptions,
  Feature,
  LocationOptions,
  RatingOptions,
  RemoteConfigOptions,
  TraceHandle,
  TraceOptions,
  UserData,
  UserDetails,
} from '../types.js'
import { reportTraceOf, startTraceOf } from './apm.js'
import type { TelemeterCore } from './client.js'
import { giveConsentOf, hasConsentOf, removeConsentOf } from './consent.js'
import { addBreadcrumbOf, captureErrorOf } from './crash.js'
import { changeDeviceIdOf } from './device-id.js'
import { DeviceState } from './devices.js'
import { cancelEventOf, endEventOf, recordEvent, refuseEvent, startEventOf } from './events.js'
import { recordRatingOf } from './feedback.js'
import { disableLocationOf, setLocationOf } from './location.js'
import { rawRequestOf, reportConversionOf } from './parity.js'
import { fetchRemoteConfigOf, getRemoteConfigOf } from './remote-config.js'
import { beginSessionOf, endSessionOf, extendSessionOf } from './session.js'
import { createUserData, setUserDetailsOf } from './user.js'
import { viewOf } from './views.js'

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

const NOOP_TRACE: TraceHandle = Object.freeze({ end() {} })

/** The recording surface for one device. */
export class Scope implements DeviceScope {
  private userDataHandle: UserData | undefined

  constructor(
    protected readonly core: TelemeterCore,
    /** undefined: the instance's own device, whose id may change. */
    private fixedId: string | undefined,
  ) {}

  // Created on first use: HTTP adapters make a scope per request, and few use userData.
  get userData(): UserData {
    this.userDataHandle ??= createUserData(this.core, () => this.state())
    return this.userDataHandle
  }

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
      if (core.closed) {
        core.logger.warnOnce('closed:event', 'event() called after shutdown(); ignored')
        return refuseEvent(core, () => core.wireIdOf(this.deviceId), 'shutdown', key, options)
      }
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
    let handle = NOOP_TRACE
    guard(this.core, 'startTrace', 'apm', () => {
      handle = startTraceOf(this.core, this.state(), key)
    })
    return handle
  }

  view(name: string, segmentation?: Record<string, unknown>): void {
    guard(this.core, 'view', 'views', () => viewOf(this.core, this.state(), name, segmentation))
  }

  setUserDetails(details: UserDetails): void {
    guard(this.core, 'setUserDetails', 'users', () => setUserDetailsOf(this.core, this.state(), details))
  }

  setLocation(location: LocationOptions): void {
    guard(this.core, 'setLocation', 'location', () => setLocationOf(this.core, this.state(), location))
  }

  disableLocation(): void {
    guard(this.core, 'disableLocation', 'location', () => disableLocationOf(this.core, this.state()))
  }

  recordRating(rating: RatingOptions): void {
    guard(this.core, 'recordRating', 'star-rating', () => recordRatingOf(this.core, this.state(), rating))
  }

  giveConsent(...features: (Feature | string)[]): void {
    guard(this.core, 'giveConsent', 'internal', () => giveConsentOf(this.core, this.state(), features))
  }

  removeConsent(...features: (Feature | string)[]): void {
    guard(this.core, 'removeConsent', 'internal', () => removeConsentOf(this.core, this.state(), features))
  }

  hasConsent(feature: Feature | string): boolean {
    try {
      return hasConsentOf(this.core, this.state(), feature)
    } catch (error) {
      this.core.reportError(error as Error)
      return false
    }
  }

  fetchRemoteConfig(options?: RemoteConfigOptions): Promise<Record<string, unknown>> {
    try {
      if (this.core.closed) return Promise.resolve({})
      return fetchRemoteConfigOf(this.core, this.state(), options).catch((error: Error) => {
        this.core.reportError(error)
        return {}
      })
    } catch (error) {
      this.core.reportError(error as Error)
      return Promise.resolve({})
    }
  }

  getRemoteConfig(): Record<string, unknown>
  getRemoteConfig(key: string): unknown
  getRemoteConfig(key?: string): unknown {
    try {
      return getRemoteConfigOf(this.core, this.state(), key)
    } catch (error) {
      this.core.reportError(error as Error)
      return key === undefined ? {} : undefined
    }
  }

  reportConversion(conversion: ConversionOptions): void {
    guard(this.core, 'reportConversion', 'attribution', () =>
      reportConversionOf(this.core, this.state(), conversion),
    )
  }

  request(params: Record<string, unknown>): void {
    guard(this.core, 'request', 'internal', () => rawRequestOf(this.core, this.state(), params))
  }

  changeDeviceId(newId: string, options: ChangeDeviceIdOptions): void {
    guard(this.core, 'changeDeviceId', 'internal', () => {
      const run = () => {
        const id = changeDeviceIdOf(this.core, this.state(), newId, options)
        if (this.fixedId !== undefined) this.fixedId = id
      }
      // The instance's own id is known only once storage is open.
      if (this.fixedId === undefined && this.core.starting) {
        this.core.ready.then(run).catch((error: Error) => this.core.reportError(error))
      } else run()
    })
  }
}

/** What `forDevice()` returns for an unusable id: records nothing, counts it as invalid. */
export class RefusingScope extends Scope {
  private readonly nobody: DeviceState

  constructor(core: TelemeterCore) {
    super(core, '')
    this.nobody = new DeviceState('', '', 0, false)
    this.nobody.refused = true
  }

  protected override state(): DeviceState {
    return this.nobody
  }

  override changeDeviceId(): void {}
}
