import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { requireBuild } from './child.js'

describe('published types', () => {
  it('type-check a CommonJS and an ES module consumer (req.telemeter included) against the built declarations', () => {
    requireBuild()
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
    const project = fileURLToPath(new URL('types/tsconfig.json', import.meta.url))
    const result = spawnSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' })
    expect(result.stdout + result.stderr).toBe('')
    expect(result.status).toBe(0)
  }, 90_000)
})
