import {
  createHttpInstrumentation,
  createTelemeter,
  type HttpInstrumentation,
  type HttpInstrumentationOptions,
  type Telemeter,
  type TelemeterConfig,
  warnOnce,
} from '@telemeter/core'
import type { TelemeterModuleOptions, TelemeterRequest } from '../types.js'

/**
 * Injection token of the module's `Telemeter` (what `@InjectTelemeter()` injects).
 * @default '@telemeter/nest:Telemeter'
 * @example
 * ```ts
 * { provide: ReportJob, useFactory: (telemeter: Telemeter) => new ReportJob(telemeter), inject: [TELEMETER] }
 * ```
 */
export const TELEMETER = '@telemeter/nest:Telemeter'
/** Injection token of the module's {@link TelemeterRuntime}. */
export const TELEMETER_RUNTIME = '@telemeter/nest:Runtime'

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 2_000

/** Keys of the HTTP options, which core's `createTelemeter` does not take. */
const HTTP_OPTION_KEYS = [
  'ignore',
  'ignoreDefaults',
  'sampleRate',
  'sampler',
  'shouldCaptureError',
  'sessionIdleMs',
  'trackIp',
  'deviceIdHeader',
] as const satisfies readonly (keyof HttpInstrumentationOptions)[]
const MODULE_OPTION_KEYS = ['telemeter', 'shutdownTimeoutMs', 'traceNonHttp', 'isGlobal'] as const

/** What one imported `TelemeterModule` works with, resolved once from its options. */
export interface TelemeterRuntime {
  readonly telemeter: Telemeter
  /** The module created the Telemeter, so it also shuts it down. */
  readonly owned: boolean
  readonly http: HttpInstrumentation<TelemeterRequest>
  readonly shutdownTimeoutMs: number
}

/**
 * Split the flat `forRoot` options into core's configuration and the HTTP
 * options (`deviceId` and `sessions` by type), then create what is missing.
 * A configuration error of `createTelemeter` surfaces at bootstrap, as it would
 * for a Telemeter created by hand.
 */
export function createRuntime(options: TelemeterModuleOptions): TelemeterRuntime {
  const given = (options && typeof options === 'object' ? options : {}) as Record<string, unknown>
  const http: Record<string, unknown> = {}
  const config: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(given)) {
    if ((HTTP_OPTION_KEYS as readonly string[]).includes(key)) http[key] = value
    else if (key === 'deviceId') (typeof value === 'function' ? http : config)[key] = value
    else if (key === 'sessions') (typeof value === 'boolean' ? http : config)[key] = value
    else if (!(MODULE_OPTION_KEYS as readonly string[]).includes(key)) config[key] = value
  }
  const supplied = given.telemeter as Telemeter | undefined
  const telemeter = supplied ?? createTelemeter(config as unknown as TelemeterConfig)
  const ignored = Object.keys(config)
  if (supplied && ignored.length > 0)
    warnOnce(
      telemeter,
      'nest:config-with-instance',
      `TelemeterModule: ${ignored.join(', ')} ignored, the Telemeter given as "telemeter" is used as it is`,
    )
  const timeout = given.shutdownTimeoutMs
  return Object.freeze({
    telemeter,
    owned: supplied === undefined,
    http: createHttpInstrumentation<TelemeterRequest>(
      telemeter,
      http as HttpInstrumentationOptions<TelemeterRequest>,
    ),
    shutdownTimeoutMs:
      typeof timeout === 'number' && Number.isFinite(timeout) && timeout >= 0
        ? timeout
        : DEFAULT_SHUTDOWN_TIMEOUT_MS,
  })
}
