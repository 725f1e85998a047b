import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { onCleanup } from './helpers.js'

const packageRoot = fileURLToPath(new URL('..', import.meta.url))

/** The fixtures load the built package, as a consumer would. */
export function requireBuild(): void {
  for (const file of ['dist/index.cjs', 'dist/index.mjs'])
    if (!existsSync(new URL(`../${file}`, import.meta.url)))
      throw new Error(`${file} is missing: run \`pnpm --filter @telemeter/express build\` first`)
}

export interface Child {
  process: ChildProcess
  stdout: () => string
  stderr: () => string
  /** Resolves with the first stdout line that parses as JSON. */
  firstLine: Promise<unknown>
  exited: Promise<number | null>
}

export function runFixture(name: string, env: Record<string, string>, nodeArgs: string[] = []): Child {
  requireBuild()
  const child = spawn(
    process.execPath,
    [...nodeArgs, fileURLToPath(new URL(`fixtures/${name}`, import.meta.url))],
    {
      cwd: packageRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  )
  let out = ''
  let err = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString()
  })
  const firstLine = new Promise<unknown>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const newline = out.indexOf('\n')
      if (newline >= 0) resolve(JSON.parse(out.slice(0, newline)))
    })
    child.once('exit', (code) => reject(new Error(`fixture ${name} exited (${code}) early: ${err}`)))
  })
  firstLine.catch(() => {})
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  onCleanup(() => {
    if (child.exitCode === null) child.kill()
  })
  return { process: child, stdout: () => out, stderr: () => err, firstLine, exited }
}
