import { contractScenarios } from './contract.js'
import { conversionScenarios } from './conversion.js'
import { crashScenarios } from './crashes.js'
import type { OtelSdk } from './sdk.js'

export { httpScenarios } from './http.js'
export type { OtelSdk } from './sdk.js'

/** Every scenario that needs only a tracer provider (no globals): one test file per SDK line. */
export function exporterScenarios(sdk: OtelSdk): void {
  conversionScenarios(sdk)
  crashScenarios(sdk)
  contractScenarios(sdk)
}
