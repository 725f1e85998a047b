import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startTestServer, type TestServer } from '@telemeter/testkit'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, listen, NoteStore } from '../src/app.js'
import { formatStatus } from '../src/format-status.js'
import { runScenario } from '../src/scenario.js'
import { CATEGORIES, defaultSettings } from '../src/settings.js'
import { statusReport } from '../src/status.js'
import { TelemetryControl, type TelemetryReport } from '../src/telemetry.js'

const APP_KEY = 'SELF_HOSTED_KEY'
const HASH = /^[0-9a-f]{64}$/
const cleanups: (() => Promise<unknown>)[] = []

beforeEach(() => {
  // The repository's CI sets CI=1; product telemetry is off there unless trackCI is set.
  vi.stubEnv('CI', '')
})
afterEach(async () => {
  vi.unstubAllEnvs()
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function server(appKey = APP_KEY): Promise<TestServer> {
  const started = await startTestServer({ appKey, sessionCooldownS: 0 })
  cleanups.push(() => started.close())
  return started
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'self-hosted-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** The app on a loopback port with its telemetry pointed at `countly`. */
async function startApp(countly: TestServer, storage: 'memory' | { dataDir: string } = 'memory') {
  const control = new TelemetryControl({
    settings: defaultSettings(countly.url, APP_KEY),
    storage,
    appVersion: '2.4.0',
    config: { flushIntervalMs: 20 },
  })
  const app = await listen(createApp(control, new NoteStore()))
  cleanups.push(() => control.shutdown())
  cleanups.push(() => app.close())
  const call = async (method: string, path: string, body?: unknown, headers?: Record<string, string>) => {
    const response = await fetch(`${app.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    return { status: response.status, body: (await response.json()) as TelemetryReport & { error?: string } }
  }
  return { control, app, call }
}

describe('the demo scenario', () => {
  it('reports product telemetry and follows every admin toggle', async () => {
    const countly = await server()
    const lines: string[] = []
    await runScenario({ url: countly.url, appKey: APP_KEY, log: (line) => lines.push(line) })
    expect(lines).toHaveLength(8)

    const starts = countly.events({ key: 'instance.start' })
    expect(starts.length).toBeGreaterThanOrEqual(1)
    expect(starts[0]?.segmentation).toMatchObject({ app_version: '2.4.0', runtime: 'node' })
    // One stop per Telemeter: the one replaced when the identifier choice changed, and the last.
    expect(countly.events({ key: 'instance.stop' })).toHaveLength(2)
    // Day counts of the memory-storage instances are sent as they shut down; the second instance's
    // count was forgotten when the operator switched telemetry off.
    const created = countly.events({ key: 'note.created' })
    const instanceIds = new Set(countly.events({ key: 'instance.stop' }).map((event) => event.device_id))
    expect(created.filter((event) => instanceIds.has(event.device_id)).map((event) => event.count)).toEqual([
      3,
    ])
    const sections = countly.events({ key: 'instance.section' })
    expect(sections.map((event) => [event.segmentation.section, event.count])).toEqual(
      expect.arrayContaining([
        ['notes', 2],
        ['settings/users', 1],
      ]),
    )
    // Users: hashed first, then plain ids; nothing while switched off.
    const userEvents = created.filter((event) => !instanceIds.has(event.device_id))
    expect(userEvents.map((event) => (HASH.test(event.device_id) ? 'hashed' : event.device_id))).toEqual([
      'hashed',
      'hashed',
      'hashed',
      'ada',
    ])
    expect(countly.user('grace')).toBeUndefined()
    // One server error: not the one while crashes were off, not the one while telemetry was off.
    expect(countly.crashes()).toEqual([expect.objectContaining({ name: 'Error: report renderer crashed' })])
    expect(countly.violations).toEqual([])
  })
})

describe('the admin settings endpoint', () => {
  it('flips each category at run time', async () => {
    const countly = await server()
    const { call } = await startApp(countly)
    for (const category of CATEGORIES) {
      const off = await call('POST', '/admin/telemetry', { tracking: { [category]: false } })
      expect(off.status).toBe(200)
      expect(off.body.settings.tracking[category]).toBe(false)
      expect(off.body.status.tracking[category]).toBe(false)
      const on = await call('POST', '/admin/telemetry', { tracking: { [category]: true } })
      expect(on.body.status.tracking[category]).toBe(true)
    }
    // Effects, end to end: crashes and views off stop errors and section counts.
    await call('POST', '/admin/telemetry', { tracking: { crashes: false, views: false } })
    expect((await call('GET', '/api/reports/broken')).status).toBe(500)
    await call('GET', '/admin/users')
    await call('POST', '/admin/telemetry', { tracking: { crashes: true, views: true } })
    expect((await call('GET', '/api/reports/broken')).status).toBe(500)
    await call('GET', '/api/notes')
    const report = (await call('GET', '/admin/telemetry')).body
    expect(report.status.tracking).toMatchObject({ crashes: true, views: true })
  })

  it('applies the user identifier choice: none, hashed, plain', async () => {
    const countly = await server()
    const { control, call } = await startApp(countly)
    const note = (user: string) =>
      call('POST', '/api/notes', { text: 'x' }, { 'x-user': user, 'x-user-email': `${user}@example.com` })

    await call('POST', '/admin/telemetry', { identifiers: 'none' })
    await note('nobody')
    await control.telemeter.flush()
    expect((await call('GET', '/admin/telemetry')).body.status.identifiersHashed).toBe(false)

    await call('POST', '/admin/telemetry', { identifiers: 'hashed' })
    await note('hidden')
    await control.telemeter.flush()
    expect((await call('GET', '/admin/telemetry')).body.status.identifiersHashed).toBe(true)

    await call('POST', '/admin/telemetry', { identifiers: 'plain' })
    await note('visible')
    await control.telemeter.flush()

    const userIds = countly
      .events({ key: 'note.created' })
      .filter(
        (event) =>
          event.count === 1 && !countly.events({ key: 'instance.start', deviceId: event.device_id }).length,
      )
      .map((event) => event.device_id)
    expect(userIds).toHaveLength(2)
    expect(userIds[0]).toMatch(HASH)
    expect(userIds[1]).toBe('visible')
    expect(countly.user('visible')?.email).toBe('visible@example.com')
    expect(countly.users().some((user) => user.did === 'nobody' || user.did === 'hidden')).toBe(false)
    expect(countly.violations).toEqual([])
  })

  it('changes the destination (URL and app key): a new Telemeter reports there', async () => {
    const first = await server()
    const second = await server('OTHER_KEY')
    const { control, call } = await startApp(first)
    await control.telemeter.flush()
    const moved = await call('POST', '/admin/telemetry', { url: second.url, appKey: 'OTHER_KEY' })
    expect(moved.body.status.server).toBe(second.url)
    expect(moved.body.settings.appKey).toBe('…_KEY')
    await call('GET', '/api/reports/broken')
    await control.telemeter.flush()
    expect(second.crashes()).toHaveLength(1)
    expect(second.events({ key: 'instance.start' })).toHaveLength(1)
    expect(first.crashes()).toEqual([])
    expect(first.events({ key: 'instance.stop' })).toHaveLength(1)
    expect(first.violations).toEqual([])
    expect(second.violations).toEqual([])
  })

  it('the global switch: off sends nothing more, survives a destination change, and on resumes', async () => {
    const first = await server()
    const second = await server()
    const { control, call } = await startApp(first)
    await control.telemeter.flush()
    const off = await call('POST', '/admin/telemetry', { enabled: false })
    expect(off.body.status).toMatchObject({ enabled: false, decidedBy: 'operator' })
    expect(off.body.instance).toMatchObject({ enabled: false, decidedBy: 'operator' })
    const itemsBefore = first.items.length
    await call('POST', '/api/notes', { text: 'x' }, { 'x-user': 'ada' })
    await call('GET', '/api/reports/broken')
    await control.telemeter.flush()
    expect(first.items.length).toBe(itemsBefore)

    const moved = await call('POST', '/admin/telemetry', { url: second.url })
    expect(moved.body.status.decidedBy).toBe('operator')
    await call('GET', '/api/reports/broken')
    await control.telemeter.flush()
    expect(second.connections).toBe(0)

    const on = await call('POST', '/admin/telemetry', { enabled: true })
    expect(on.body.status).toMatchObject({ enabled: true, decidedBy: 'default' })
    await call('GET', '/api/reports/broken')
    await control.telemeter.flush()
    expect(second.crashes()).toHaveLength(1)
  })

  it('refuses a malformed patch with 400 and changes nothing', async () => {
    const countly = await server()
    const { call } = await startApp(countly)
    for (const patch of [
      { identifiers: 'sha1' },
      { tracking: { crashes: 'no' } },
      { tracking: { billing: false } },
      { url: 'ftp://x' },
      { enabled: 'yes' },
      { colour: 'blue' },
    ]) {
      const answer = await call('POST', '/admin/telemetry', patch)
      expect(answer.status).toBe(400)
      expect(answer.body.error).toEqual(expect.any(String))
    }
    expect((await call('GET', '/admin/telemetry')).body.settings).toMatchObject({
      identifiers: 'hashed',
      tracking: Object.fromEntries(CATEGORIES.map((category) => [category, true])),
    })
  })
})

describe('the status CLI', () => {
  it('prints the live status of the running server', async () => {
    const countly = await server()
    const { app, call } = await startApp(countly)
    await call('POST', '/admin/telemetry', { tracking: { crashes: false } })
    const [report, source] = await statusReport({ SELF_HOSTED_URL: app.url })
    expect(source).toBe(`live from ${app.url}`)
    const text = formatStatus(report, source)
    expect(text).toContain('Telemetry is ON: on by default; no off switch is set')
    expect(text).toMatch(/decided by\s+default/)
    expect(text).toContain('crashes OFF')
    expect(text).toMatch(new RegExp(`instance id\\s+${report.instance.instanceId}`))
  })

  it('without a running server, reads the stored operator choice and sends nothing', async () => {
    const countly = await server()
    const dataDir = await tempDir()
    const { control, call } = await startApp(countly, { dataDir })
    await call('POST', '/admin/telemetry', { enabled: false })
    await control.shutdown()
    const connections = countly.connections
    const env = {
      DATA_DIR: dataDir,
      PORT: '9',
      TELEMETER_URL: countly.url,
      TELEMETER_APP_KEY: APP_KEY,
      PATH: process.env.PATH,
    }
    const [report, source] = await statusReport(env)
    expect(source).toContain('is not running')
    expect(report.status).toMatchObject({ enabled: false, decidedBy: 'operator', printOnly: false })
    expect(countly.connections).toBe(connections)
    expect(process.env.TELEMETER_DEBUG).toBeUndefined()

    // The same through the CLI entry point.
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/status.ts'], {
      cwd: join(import.meta.dirname, '..'),
      env,
    })
    expect(stdout).toContain('Telemetry is OFF: switched off by the operator (stored choice)')
    expect(stdout).toMatch(/decided by\s+operator/)
    expect(countly.connections).toBe(connections)
  })
})
