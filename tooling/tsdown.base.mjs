/**
 * The one build every published package shares: dual ESM + CJS with a
 * declaration file per format, for Node >= 20.
 * @param {Record<string, string> | string[]} [entry]
 * @returns {import('tsdown').UserConfig}
 */
export function packageBuild(entry = ['src/index.ts']) {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    clean: true,
    treeshake: true,
    fixedExtension: true,
  }
}
