/** Kept equal to package.json by `tooling/scripts/sync-version.mjs` (a test checks it). */
export const SDK_VERSION = '0.0.0'
export const SDK_NAME = 'telemeter-node'
