#!/usr/bin/env node
// Entry point of the README commands (`npm run demo`, `npm test`, `npm run bench`).
// A fresh machine has only Node and npm: install pnpm and the workspace when
// needed, then hand over to turbo. No global installs, no corepack.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const PNPM_VERSION = '10.34.9'
const MIN_NODE = [20, 19]
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const task = process.argv[2] ?? 'test'

const [major, minor] = process.versions.node.split('.').map(Number)
if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1])) {
  console.error(`Telemeter needs Node >= ${MIN_NODE.join('.')}; this is ${process.version}.`)
  process.exit(1)
}

const bin = join(root, 'node_modules', '.bin')
// turbo spawns the package manager from each package's directory: PATH must hold absolute entries.
const env = {
  ...process.env,
  PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
  TURBO_TELEMETRY_DISABLED: '1',
  TURBO_NO_UPDATE_NOTIFIER: '1',
  ...(process.env.CI ? {} : { FORCE_COLOR: process.env.FORCE_COLOR ?? '1' }),
}

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env, ...options })
  if (result.error) throw result.error
  if (result.status !== 0) process.exit(result.status ?? 1)
}

function ensureInstalled() {
  const lockfile = join(root, 'pnpm-lock.yaml')
  const stamp = join(root, 'node_modules', '.telemeter-install-stamp')
  const want = createHash('sha256')
    .update(existsSync(lockfile) ? readFileSync(lockfile) : '')
    .update(process.versions.node.split('.')[0])
    .digest('hex')
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return
  console.log(`[telemeter] installing the workspace with pnpm ${PNPM_VERSION} (first run only)`)
  const localPnpm = join(root, 'node_modules', '.bin', 'pnpm')
  const frozen = existsSync(lockfile) ? ['--frozen-lockfile'] : []
  if (existsSync(localPnpm)) run(localPnpm, ['install', ...frozen, '--reporter=append-only'])
  else run('npx', ['--yes', `pnpm@${PNPM_VERSION}`, 'install', ...frozen, '--reporter=append-only'])
  writeFileSync(stamp, want)
}

ensureInstalled()
const pnpm = join(bin, 'pnpm')
const turbo = (...args) => run(join(bin, 'turbo'), ['run', ...args])

switch (task) {
  case 'test':
    run(join(bin, 'biome'), ['ci', '.'])
    turbo('build', 'typecheck', 'lint', '--output-logs=errors-only')
    turbo('test', 'test:reliability', '--concurrency=1', '--output-logs=full')
    break
  case 'demo':
    turbo('build', '--filter=@telemeter/demo...', '--output-logs=errors-only')
    run(pnpm, ['--filter', '@telemeter/demo', 'run', '--silent', 'start'])
    break
  case 'bench':
    turbo('bench', '--concurrency=1', '--output-logs=full')
    break
  default:
    console.error(`unknown task ${task}; use test, demo or bench`)
    process.exit(2)
}
