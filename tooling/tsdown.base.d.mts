import type { UserConfig } from 'tsdown'
export declare function packageBuild(entry?: Record<string, string> | string[]): UserConfig
