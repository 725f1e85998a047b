export { CaptureExceptions } from './internal/capture-exceptions.js'
export { TelemeterModule } from './internal/module.js'
export { TELEMETER } from './internal/runtime.js'
export { InjectTelemeter, TelemeterService } from './internal/service.js'
export { Traced } from './internal/traced.js'
export type {
  TelemeterDeviceIdHook,
  TelemeterModuleConfigOptions,
  TelemeterModuleExtras,
  TelemeterModuleInstanceOptions,
  TelemeterModuleOptions,
  TelemeterModuleSharedOptions,
  TelemeterRequest,
} from './types.js'
