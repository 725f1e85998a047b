import { httpScenarios } from '../../../../packages/otel/test/scenarios/index.js'
import { sdkV3 } from './sdk-v3.js'

httpScenarios(sdkV3)
