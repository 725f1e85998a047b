/**
 * A CommonJS application requiring NestJS 12 (ESM-only) and the CJS build of
 * @telemeter/nest: require(esm), on by default since Node 22.12 (and 20.19).
 */
import { createRequire } from 'node:module'
import { describeSignal } from '../../../../packages/nest/test/signal-suite.js'
import { builtPackages } from './built-packages.js'

describeSignal([
  { label: 'NestJS 12 (require)', loader: 'cjs', ...builtPackages(createRequire(import.meta.url), 'cjs') },
])
