import { packageBuild } from '@telemeter/tooling/tsdown'
import { defineConfig } from 'tsdown'

export default defineConfig(packageBuild({ index: 'src/index.ts', cli: 'src/cli.ts' }))
