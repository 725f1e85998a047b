import { packageBuild } from '@telemeter/tooling/tsdown'
import { defineConfig } from 'tsdown'

export default defineConfig(packageBuild())
