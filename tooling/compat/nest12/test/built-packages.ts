import { dirname, join } from 'node:path'

/** Entry points of the Nest packages and of the ESM or CJS build of @telemeter/nest, as `require` resolves them from a package. */
export function builtPackages(require: NodeJS.Require, format: 'esm' | 'cjs') {
  const telemeterNest = require.resolve('@telemeter/nest')
  return {
    NEST_COMMON: require.resolve('@nestjs/common'),
    NEST_CORE: require.resolve('@nestjs/core'),
    NEST_EXPRESS: require.resolve('@nestjs/platform-express'),
    TELEMETER_NEST: format === 'esm' ? join(dirname(telemeterNest), 'index.mjs') : telemeterNest,
  }
}
