import { testConfig } from '@telemeter/tooling/vitest'
import { defineConfig } from 'vitest/config'

const soak = process.env.TELEMETER_SOAK === '1'
const base = testConfig({ reliability: true, testTimeout: soak ? 3_600_000 : 180_000 })

// One file at a time: the load and crash scenarios measure memory and time on a 2-core machine.
export default defineConfig({
  ...base,
  test: { ...base.test, fileParallelism: false, hookTimeout: 60_000 },
})
