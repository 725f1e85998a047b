import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestServer } from '@telemeter/testkit'
import { describe, expect, it } from 'vitest'
import { createTelemeter, type DeviceScope, type Telemeter } from '../../src/index.js'
import { APP_KEY, onCleanup, setup, tempDir, testServer } from '../helpers.js'
import { actionOf, itemsOf, paramsWith } from './support.js'

describe.each([
  ['the Telemeter', (telemeter: Telemeter) => telemeter as DeviceScope, 'own'],
  ['a forDevice scope', (telemeter: Telemeter) => telemeter.forDevice('user-1'), 'user-1'],
])('crashes on %s', (_label, scopeOf, deviceId) => {
  it('reports every crash field, with breadcrumbs sent once', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own', appVersion: '1.2.3' })
    const scope = scopeOf(telemeter)
    scope.addBreadcrumb('loaded config')
    scope.addBreadcrumb('connected to db')
    scope.captureError(new TypeError('boom'), {
      segmentation: { job: 'sync', attempt: 2, nested: { no: 1 } },
    })
    scope.captureError(new RangeError('second'), { fatal: true })
    await telemeter.flush()

    const [first, second] = server.crashes(deviceId)
    expect(first).toMatchObject({
      name: 'TypeError: boom',
      nonfatal: true,
      os: 'Linux',
      os_version: os.release(),
      app_version: '1.2.3',
      logs: 'loaded config\nconnected to db',
      custom: { job: 'sync', attempt: 2 },
    })
    expect(first!.error.split('\n')[0]).toBe('TypeError: boom')
    expect(first!.error).toContain('crashes.test.ts')
    expect(first!.run).toBeGreaterThanOrEqual(0)
    expect(first!.fields).toMatchObject({
      ram_current: expect.any(Number),
      ram_total: Math.round(os.totalmem() / 1024 / 1024),
      architecture: process.arch,
    })
    expect(first!.fields.ram_current as number).toBeGreaterThan(0)
    expect(first!.fields.ram_current as number).toBeLessThanOrEqual(first!.fields.ram_total as number)
    const wire = paramsWith(server, deviceId, 'crash')[0]!.crash as Record<string, unknown>
    expect(Object.keys(wire).sort()).toEqual(
      [
        '_os',
        '_os_version',
        '_app_version',
        '_error',
        '_name',
        '_nonfatal',
        '_run',
        '_ram_current',
        '_ram_total',
        '_architecture',
        '_logs',
        '_custom',
      ].sort(),
    )
    expect(wire._nonfatal).toBe(true)
    expect(second).toMatchObject({ name: 'RangeError: second', nonfatal: false, logs: undefined, custom: {} })
    expect(server.events({ key: '[CLY]_crash', deviceId })).toHaveLength(2)
    expect(server.violations).toEqual([])
  })

  it('limits the stack to 30 lines of 200 characters and breadcrumbs to the last 100', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' })
    const scope = scopeOf(telemeter)
    const error = new Error('deep')
    error.stack = [
      'Error: deep',
      ...Array.from({ length: 60 }, (_, i) => `    at frame${i} (${'x'.repeat(300)})`),
    ].join('\n')
    for (let i = 0; i < 150; i++) scope.addBreadcrumb(`crumb ${i}`)
    scope.captureError(error)
    await telemeter.flush()
    const [crash] = server.crashes(deviceId)
    const lines = crash!.error.split('\n')
    expect(lines).toHaveLength(30)
    expect(lines[0]).toBe('Error: deep')
    expect(lines[1]).toBe(`    at frame0 (${'x'.repeat(200 - 15)}`)
    expect(lines.every((line) => line.length <= 200)).toBe(true)
    const logs = crash!.logs!.split('\n')
    expect(logs).toHaveLength(100)
    expect(logs[0]).toBe('crumb 50')
    expect(logs[99]).toBe('crumb 149')
    expect(server.violations).toEqual([])
  })

  it('reports non-Error values sensibly', async () => {
    const { server, telemeter, logger } = await setup({ deviceId: 'own' })
    const scope = scopeOf(telemeter)
    const circular: Record<string, unknown> = { n: 1 }
    circular.self = circular
    const hostile = {
      toJSON() {
        throw new Error('no json for you')
      },
    }
    const thrown: unknown[] = [
      'plain string',
      { code: 42, reason: 'quota' },
      null,
      undefined,
      circular,
      42,
      Symbol('sym'),
      hostile,
      {
        message: 'error-like',
        stack: 'CustomError: error-like\n    at somewhere (file.js:1:1)',
        name: 'CustomError',
      },
      new Error('outer', { cause: new Error('inner') }),
      Object.assign(new Error('no stack'), { stack: undefined }),
    ]
    for (const value of thrown) expect(() => scope.captureError(value)).not.toThrow()
    await telemeter.flush()
    const crashes = server.crashes(deviceId)
    expect(crashes.map((c) => c.name)).toEqual([
      'Non-Error thrown (string): plain string',
      'Non-Error thrown (Object): {"code":42,"reason":"quota"}',
      'Non-Error thrown (null): null',
      'Non-Error thrown (undefined): undefined',
      'Non-Error thrown (Object): {"n":1,"self":"[Circular]"}',
      'Non-Error thrown (number): 42',
      'Non-Error thrown (symbol): Symbol(sym)',
      'Non-Error thrown (Object): [object Object]',
      'CustomError: error-like',
      'Error: outer',
      'Error: no stack',
    ])
    expect(crashes.every((c) => c.error.length > 0 && c.app_version !== '' && c.os !== '')).toBe(true)
    expect(crashes[9]!.error).toContain('Caused by: Error: inner')
    expect(crashes[8]!.error).toBe('CustomError: error-like\n    at somewhere (file.js:1:1)')
    expect(logger.warnings()).toEqual([])
    expect(server.violations).toEqual([])
  })

  it('never lets a crash or a session end overtake the events recorded before it', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' }, { sessionCooldownS: 0 })
    const scope = scopeOf(telemeter)
    scope.beginSession()
    scope.event('first')
    scope.event('second')
    scope.captureError(new Error('after events'))
    scope.event('third')
    scope.endSession()
    scope.event('after-session')
    await telemeter.flush()
    expect(itemsOf(server, deviceId).map((item) => actionOf(item.params))).toEqual([
      'begin',
      'events:first,second',
      'crash',
      'events:third',
      'end',
      'events:after-session',
    ])
    expect(server.violations).toEqual([])
  })
})

describe('crash app version', () => {
  it('is the configured version even for a crash captured before storage is open', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own', appVersion: '4.5.6' })
    telemeter.captureError(new Error('at once'))
    telemeter.forDevice('user-1').captureError(new Error('at once too'))
    telemeter.recordRating({ rating: 4 })
    await telemeter.flush()
    expect(server.crashes().map((c) => c.app_version)).toEqual(['4.5.6', '4.5.6'])
    expect(server.events({ key: '[CLY]_star_rating' })[0]?.segmentation.app_version).toBe('4.5.6')
    expect(server.violations).toEqual([])
  })

  it("falls back to the host package's version, then to 0.0.0", async () => {
    const server = await testServer()
    const withPackage = await tempDir()
    await writeFile(join(withPackage, 'package.json'), JSON.stringify({ name: 'host-app', version: '7.8.9' }))
    const nested = join(withPackage, 'src')
    await (await import('node:fs/promises')).mkdir(nested)
    const withoutPackage = await tempDir()
    const cwd = process.cwd()
    onCleanup(() => process.chdir(cwd))
    const versions: string[] = []
    for (const dir of [nested, withoutPackage]) {
      process.chdir(dir)
      const telemeter = createTelemeter({
        url: server.url,
        appKey: APP_KEY,
        storage: 'memory',
        sessions: 'manual',
        serverConfig: false,
        debug: { debug() {}, info() {}, warn() {}, error() {} },
      })
      process.chdir(cwd)
      telemeter.captureError(new Error(dir))
      await telemeter.shutdown()
      versions.push(server.crashes().at(-1)!.app_version)
    }
    expect(versions[0]).toBe('7.8.9')
    // No package.json above a temp dir, unless the machine has one in a parent: then it is that one's.
    expect(versions[1]).not.toBe('')
    expect(server.violations).toEqual([])
  })
})

const FIXTURE = fileURLToPath(new URL('./fixtures/uncaught.mjs', import.meta.url))

interface ChildResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

async function runChild(server: TestServer, dir: string, failure: string, mode: 'sdk' | 'plain') {
  const child = spawn(process.execPath, [FIXTURE, server.url, APP_KEY, dir, failure, mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null]
  return { code, signal, stdout, stderr } satisfies ChildResult
}

describe('captureUncaught (child process)', () => {
  it.each([
    ['an uncaught exception', 'exception', 'Error: uncaught boom', 'uncaughtException'],
    ['an unhandled rejection', 'rejection', 'Error: rejected boom', 'unhandledRejection'],
    [
      'a rejection with a string',
      'rejection-string',
      'UnhandledPromiseRejection: This error originated either by throwing inside of an async function without a catch block, or by rejecting a promise which was not handled with .catch(). The promise rejected with the reason "plain reason".',
      'unhandledRejection',
    ],
  ])(
    'reports %s as a fatal crash on disk and keeps Node exit code and message',
    async (_label, failure, name, origin) => {
      const server = await testServer()
      const dir = await tempDir()
      const plain = await runChild(server, dir, failure, 'plain')
      const withSdk = await runChild(server, dir, failure, 'sdk')

      // Node's own behaviour is unchanged: same exit code (1), same message and stack on stderr.
      expect(plain.code).toBe(1)
      expect(withSdk).toMatchObject({ code: plain.code, signal: null, stderr: plain.stderr })
      expect(withSdk.stderr).toContain(name.split(':')[0]!)
      // Nothing reached the server before the process died: it was written to disk.
      expect(server.crashes()).toEqual([])

      const drain = await runChild(server, dir, 'none', 'sdk')
      expect(drain).toMatchObject({ code: 0, stderr: '' })
      await server.waitFor((s) => s.crashes('uncaught-device').length === 1)
      const [crash] = server.crashes('uncaught-device')
      expect(crash).toMatchObject({
        name,
        nonfatal: false,
        app_version: '3.0.0',
        os: 'Linux',
        logs: 'about to fail',
        custom: { origin },
      })
      // `_error` lines are cut at 200 characters; `_name` keeps the whole first line.
      expect(crash!.error.split('\n')[0]).toBe(name.slice(0, 200))
      expect(crash!.error).toContain(failure === 'rejection-string' ? 'at ' : 'uncaught.mjs')
      // The event recorded just before the failure was written first and is delivered first.
      expect(itemsOf(server, 'uncaught-device').map((item) => actionOf(item.params))).toEqual([
        'events:just-before',
        'crash',
        'hc',
      ])
      expect(paramsWith(server, 'uncaught-device', 'hc')[0]?.hc).toMatchObject({ el: 0, sc: 200 })
      expect(server.violations).toEqual([])
    },
  )

  it.each([
    ['a configured device id', 'at-start', 'uncaught-device'],
    ['a generated device id', 'at-start-generated-id', undefined],
  ])(
    'keeps a crash thrown before storage opened (%s) and delivers it on the next start',
    async (_label, failure, deviceId) => {
      const server = await testServer()
      const dir = await tempDir()
      const plain = await runChild(server, dir, failure, 'plain')
      const withSdk = await runChild(server, dir, failure, 'sdk')
      expect(plain.code).toBe(1)
      expect(withSdk).toMatchObject({ code: plain.code, signal: null })
      // Same message as plain Node (the echoed source line differs: the fixture throws from another line).
      for (const run of [plain, withSdk]) expect(run.stderr).toContain('Error: boom at start\n    at ')
      expect(server.crashes()).toEqual([])
      expect((await readdir(dir)).some((name) => name.startsWith('emergency-'))).toBe(true)
      // The id generated while dying was kept for the installation (the drain below configures its own).
      const generatedId = deviceId ? undefined : (await readFile(join(dir, 'device-id'), 'utf8')).trim()

      const drain = await runChild(server, dir, 'none', 'sdk')
      expect(drain).toMatchObject({ code: 0, stderr: '' })
      await server.waitFor((s) => s.crashes().length === 1)
      const [crash] = server.crashes()
      // A throw at the top level of an ES module rejects the module's evaluation: Node reports it as such.
      expect(crash).toMatchObject({
        name: 'Error: boom at start',
        nonfatal: false,
        custom: { origin: 'unhandledRejection' },
      })
      if (deviceId) expect(crash!.device_id).toBe(deviceId)
      else expect(crash!.device_id).toBe(generatedId)
      expect(server.events({ key: 'just-before' })).toHaveLength(1)
      expect((await readdir(dir)).some((name) => name.startsWith('emergency-'))).toBe(false)
      expect(server.violations).toEqual([])
    },
  )
})
