import { execFile, execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createTelemeter } from '@telemeter/core'
import { startTestServer, type TestServer } from '@telemeter/testkit'
import Koa3 from 'koa3'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { telemeterKoa } from '../src/index.js'
import { APP_KEY, send, startApp } from './helpers.js'

const packageDir = fileURLToPath(new URL('..', import.meta.url))

function newestSource(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs)
  }
  return newest
}

/** turbo runs tests after upstream builds only: build this package when dist is missing or stale. */
function ensureBuilt(): void {
  const built = join(packageDir, 'dist', 'index.cjs')
  if (existsSync(built) && statSync(built).mtimeMs >= newestSource(join(packageDir, 'src'))) return
  execFileSync('flock', ['/tmp/telemeter-build.lock', 'pnpm', 'build'], { cwd: packageDir, stdio: 'ignore' })
}

describe('the built package', () => {
  let server: TestServer
  beforeAll(async () => {
    ensureBuilt()
    server = await startTestServer({ appKey: APP_KEY })
  }, 60_000)
  afterAll(() => server.close())

  /** Run a fixture app in its own Node process (asynchronously: the test server answers it from this one). */
  async function consume(fixture: string): Promise<{ resolved: string; status: number; body: unknown }> {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(packageDir, 'test', 'fixtures', fixture)],
      {
        cwd: packageDir,
        env: { ...process.env, TELEMETER_URL: server.url, TELEMETER_APP_KEY: APP_KEY },
        encoding: 'utf8',
      },
    )
    return JSON.parse(stdout)
  }

  it.each([
    [
      'CommonJS: require() gets dist/index.cjs and wires a Koa 2 app',
      'cjs',
      join(packageDir, 'dist', 'index.cjs'),
    ],
    [
      'ES modules: import gets dist/index.mjs and wires a Koa 3 app',
      'esm',
      `file://${join(packageDir, 'dist', 'index.mjs')}`,
    ],
  ])('works from %s', async (_title, name, resolved) => {
    const result = await consume(`consume.${name === 'cjs' ? 'cjs' : 'mjs'}`)
    expect(result.resolved).toBe(resolved)
    expect(result).toMatchObject({ status: 200, body: { same: true, device: `${name}-device` } })
    await server.waitFor((s) => s.traces({ deviceId: `${name}-device` }).length === 1)
    expect(server.traces({ deviceId: `${name}-device` })[0]).toMatchObject({
      type: 'network',
      name: `GET /${name}/users/:id`,
      metrics: {
        response_code: 200,
        request_payload_size: 0,
        response_payload_size: Buffer.byteLength(JSON.stringify(result.body)),
      },
    })
    expect(server.violations).toEqual([])
  })
})

describe('misuse', () => {
  it('without a Telemeter, warns once and passes requests through untouched', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const middleware = telemeterKoa({} as never)
    expect(warn).toHaveBeenCalledTimes(1)
    expect(String(warn.mock.calls[0]?.[0])).toMatch(
      /^\[telemeter\] telemeterKoa is disabled: .*createTelemeter/,
    )
    warn.mockRestore()
    const h = await startApp(Koa3, {
      routes(app) {
        app.use(middleware)
        app.use((ctx) => {
          ctx.body = { telemeter: ctx.state.telemeter === undefined ? 'none' : 'set' }
        })
      },
    })
    expect(JSON.parse((await send(h, '/anything')).body.toString())).toEqual({ telemeter: 'set' })
    await h.close()
  })

  it('records nothing and serves normally when Telemeter is disabled', async () => {
    const server = await startTestServer({ appKey: APP_KEY })
    const telemeter = createTelemeter({ url: server.url, appKey: APP_KEY, storage: 'memory', disabled: true })
    const app = new Koa3()
    app.use(telemeterKoa(telemeter))
    app.use((ctx) => {
      ctx.body = 'still here'
    })
    const http = app.listen(0, '127.0.0.1')
    await new Promise<void>((resolve) => http.once('listening', () => resolve()))
    const { port } = http.address() as { port: number }
    const reply = await fetch(`http://127.0.0.1:${port}/x`, { headers: { 'x-device-id': 'd' } })
    expect(await reply.text()).toBe('still here')
    await telemeter.flush()
    http.close()
    await telemeter.shutdown()
    expect(server.requests).toEqual([])
    await server.close()
  })
})
