const nodeMajor = Number(process.versions.node.split('.')[0])

/**
 * Shared test settings. Test files named `*.node22.test.ts` exercise
 * dependencies that only run on Node >= 22 (OpenTelemetry SDK 3, NestJS 12
 * through require(esm)); they are selected by the Node version instead of
 * being skipped, and CI runs the whole suite on Node 20 and on Node 24.
 * Reliability scenarios (`*.reliability.test.ts`) run under their own task.
 * `passWithNoTests` is for the compat packages, whose suites may all be
 * Node 22+ only.
 * @param {{ include?: string[], exclude?: string[], testTimeout?: number, reliability?: boolean, passWithNoTests?: boolean }} [options]
 * @returns {import('vitest/config').ViteUserConfig}
 */
export function testConfig(options = {}) {
  const reliability = options.reliability ?? false
  const include =
    options.include ??
    (reliability ? ['test/**/*.reliability.test.ts'] : ['src/**/*.test.ts', 'test/**/*.test.ts'])
  return {
    test: {
      include,
      exclude: [
        '**/node_modules/**',
        '**/dist/**',
        ...(reliability ? [] : ['**/*.reliability.test.ts']),
        ...(nodeMajor >= 22 ? [] : ['**/*.node22.test.ts']),
        ...(options.exclude ?? []),
      ],
      testTimeout: options.testTimeout ?? 20_000,
      hookTimeout: 20_000,
      pool: 'forks',
      passWithNoTests: options.passWithNoTests ?? false,
      reporters: process.env.CI ? ['dot'] : ['default'],
    },
  }
}
