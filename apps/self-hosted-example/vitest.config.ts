import { testConfig } from '@telemeter/tooling/vitest'
import { defineConfig } from 'vitest/config'

export default defineConfig(testConfig({ include: ['test/**/*.test.ts'] }))
