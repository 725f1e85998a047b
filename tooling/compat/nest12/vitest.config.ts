import { testConfig } from '@telemeter/tooling/vitest'
import { defineConfig, mergeConfig } from 'vitest/config'

export default defineConfig(
  mergeConfig(testConfig({ include: ['test/**/*.test.ts'] }), {
    test: {
      server: {
        deps: {
          // The injected @telemeter/nest is loaded by Node; the scenarios must use the
          // same @telemeter/core instance, not a copy Vite transformed for the tests.
          external: [/\/packages\/core\/dist\//],
        },
      },
    },
  }),
)
