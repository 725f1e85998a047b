import { exporterScenarios } from './scenarios/index.js'
import { sdkV2 } from './sdk-v2.js'

exporterScenarios(sdkV2)
