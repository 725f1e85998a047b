export { TelemeterConfigError } from './internal/config.js'
export { currentScope, runWithScope } from './internal/context.js'
export { createTelemeter } from './internal/telemeter.js'
export type {
  DeviceScope,
  DropInfo,
  DropReason,
  EventOptions,
  Feature,
  Limits,
  Logger,
  SentInfo,
  ShutdownOptions,
  StorageAdapter,
  StoredData,
  StoredRequest,
  Telemeter,
  TelemeterConfig,
  TelemeterEventMap,
  TelemeterStats,
  TrackingPolicy,
} from './types.js'
