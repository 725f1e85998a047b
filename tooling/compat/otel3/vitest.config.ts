import { testConfig } from '@telemeter/tooling/vitest'
import { defineConfig } from 'vitest/config'

const base = testConfig({ include: ['test/**/*.test.ts'], passWithNoTests: true })

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    server: {
      deps: {
        // The injected build of @telemeter/otel must share the one @telemeter/core
        // instance the scenarios create Telemeters with (vite-processed, like theirs).
        inline: ['@telemeter/otel'],
      },
    },
  },
})
