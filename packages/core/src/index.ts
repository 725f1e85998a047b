export { isValidApmKey, MAX_APM_KEY_LENGTH, RESERVED_APM_METRICS, toApmKey } from './internal/apm.js'
export { TelemeterConfigError } from './internal/config.js'
export { currentScope, runWithScope } from './internal/context.js'
export { contentLength, countResponseBytes } from './internal/http-body.js'
export {
  createHttpInstrumentation,
  DEFAULT_IGNORED_PATHS,
  debugWarnOnce,
  errorStatus,
  isServerError,
  isTelemeterServer,
  UNKNOWN_ROUTE,
  warnOnce,
} from './internal/http-instrumentation.js'
export { createTelemeter } from './internal/telemeter.js'
export { TELEMETER_REQUEST_HEADER } from './internal/transport.js'
export type {
  CaptureErrorOptions,
  ChangeDeviceIdOptions,
  DeviceScope,
  DropInfo,
  DropReason,
  EventOptions,
  Feature,
  HttpInstrumentation,
  HttpInstrumentationOptions,
  HttpRequestFacts,
  HttpRequestRecord,
  HttpResponseFacts,
  IgnoreRule,
  Limits,
  LocationOptions,
  Logger,
  RatingOptions,
  RemoteConfigOptions,
  ResponseByteCount,
  SentInfo,
  ShutdownOptions,
  StatusDecider,
  StorageAdapter,
  StoredData,
  StoredRequest,
  Telemeter,
  TelemeterConfig,
  TelemeterEventMap,
  TelemeterStats,
  TelemeterStatus,
  TraceHandle,
  TraceOptions,
  TrackingPolicy,
  UserData,
  UserDetails,
} from './types.js'
