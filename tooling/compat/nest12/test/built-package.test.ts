/**
 * The built @telemeter/nest, as applications load it: NestJS 12 with import
 * (through the injected copy, whose peers are Nest 12) and NestJS 11 with
 * import and require (through packages/nest itself, whose peers are Nest 11).
 * NestJS 12 with require is in cjs.node22.test.ts.
 */
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { describeSignal } from '../../../../packages/nest/test/signal-suite.js'
import { builtPackages } from './built-packages.js'

const nest11 = createRequire(join(import.meta.dirname, '../../../../packages/nest/package.json'))

describeSignal([
  { label: 'NestJS 12 (import)', loader: 'esm', ...builtPackages(createRequire(import.meta.url), 'esm') },
  { label: 'NestJS 11 (import)', loader: 'esm', ...builtPackages(nest11, 'esm') },
  { label: 'NestJS 11 (require)', loader: 'cjs', ...builtPackages(nest11, 'cjs') },
])
