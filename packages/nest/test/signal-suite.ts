/**
 * The built package in a child process: a Nest application with
 * `app.enableShutdownHooks()` gets SIGTERM, and what it recorded must reach
 * the server (the module's `onApplicationShutdown` flushes). Run by the
 * compat suite, which tests the build: NestJS 11 and 12, loaded with import
 * and with require.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { startTestServer } from '@telemeter/testkit'
import { describe, expect, it } from 'vitest'

const APP_KEY = 'NEST_SIGNAL_APP'

/** Absolute paths of the entry points the child loads. */
export interface BuiltPackages {
  readonly label: string
  readonly loader: 'esm' | 'cjs'
  readonly NEST_COMMON: string
  readonly NEST_CORE: string
  readonly NEST_EXPRESS: string
  readonly TELEMETER_NEST: string
}

async function readyPort(child: ChildProcess, errors: string[]): Promise<number> {
  let output = ''
  child.stderr?.on('data', (chunk: Buffer) => errors.push(chunk.toString()))
  for await (const chunk of child.stdout!) {
    output += String(chunk)
    const match = /ready (\d+)/.exec(output)
    if (match) return Number(match[1])
  }
  throw new Error(`the child exited before it was ready: ${errors.join('')}`)
}

function startChild(loader: 'esm' | 'cjs', env: Record<string, string>): ChildProcess {
  const entry = fileURLToPath(
    new URL(`./fixtures/signal-app.${loader === 'esm' ? 'mjs' : 'cjs'}`, import.meta.url),
  )
  return spawn(process.execPath, [entry], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

async function terminate(child: ChildProcess, errors: string[]) {
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const [code, signal] = await exited
  return { code, signal, errors: errors.join('') }
}

export function describeSignal(cases: readonly BuiltPackages[]): void {
  describe.each(cases)('built @telemeter/nest with $label', ({ label: _label, loader, ...paths }) => {
    it('delivers what was recorded when SIGTERM closes an app with enableShutdownHooks()', async () => {
      const server = await startTestServer({ appKey: APP_KEY })
      const child = startChild(loader, {
        ...paths,
        TELEMETER_URL: server.url,
        TELEMETER_APP_KEY: APP_KEY,
        LOADER: loader,
      })
      const errors: string[] = []
      try {
        const port = await readyPort(child, errors)
        const device = `signal-${loader}`
        const answer = await fetch(`http://127.0.0.1:${port}/nowhere`, { headers: { 'x-device-id': device } })
        expect(answer.status).toBe(404)
        // Nest re-raises the signal once its shutdown hooks ran.
        expect(await terminate(child, errors)).toEqual({ code: null, signal: 'SIGTERM', errors: '' })
        const [event, ...moreEvents] = server.events({ key: 'signal_test' })
        expect(moreEvents).toEqual([])
        expect(event?.segmentation).toEqual({ loader })
        expect(server.traces({ deviceId: device, name: 'GET unknown route' })).toHaveLength(1)
        expect(server.violations).toEqual([])
      } finally {
        child.kill('SIGKILL')
        await server.close()
      }
    })

    it('lets the shutdown sequence finish when the server cannot be reached', async () => {
      const server = await startTestServer({ appKey: APP_KEY })
      server.setFault({ type: 'down' })
      const child = startChild(loader, {
        ...paths,
        TELEMETER_URL: server.url,
        TELEMETER_APP_KEY: APP_KEY,
        LOADER: loader,
        SHUTDOWN_TIMEOUT_MS: '300',
      })
      const errors: string[] = []
      try {
        await readyPort(child, errors)
        // Exiting by the re-raised signal (not with 0 halfway through) shows every hook ran to its end.
        const exit = await terminate(child, errors)
        expect({ code: exit.code, signal: exit.signal }).toEqual({ code: null, signal: 'SIGTERM' })
        expect(exit.errors).toContain('[telemeter]')
      } finally {
        child.kill('SIGKILL')
        await server.close()
      }
    })
  })
}
