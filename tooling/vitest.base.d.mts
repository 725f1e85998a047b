import type { ViteUserConfig } from 'vitest/config'
export declare function testConfig(options?: {
  include?: string[]
  exclude?: string[]
  testTimeout?: number
  reliability?: boolean
  passWithNoTests?: boolean
}): ViteUserConfig
