// `pnpm test:reliability [-- --soak] [vitest args]`: the reliability suite,
// `--soak` being the same as TELEMETER_SOAK=1 (longer runs, larger counts).
import { spawnSync } from 'node:child_process'

const args = process.argv.slice(2).filter((arg) => arg !== '--')
const soak = args.includes('--soak')
const rest = args.filter((arg) => arg !== '--soak')
const result = spawnSync('vitest', ['run', '--config', 'vitest.reliability.config.ts', ...rest], {
  stdio: 'inherit',
  env: { ...process.env, ...(soak ? { TELEMETER_SOAK: '1' } : {}) },
})
if (result.error) throw result.error
process.exit(result.status ?? 1)
