import { httpScenarios } from './scenarios/index.js'
import { sdkV2 } from './sdk-v2.js'

httpScenarios(sdkV2)
