import { afterEach, describe, expect, it, vi } from 'vitest'
import { createTelemeter, type DropInfo, type StatusDecider } from '../../src/index.js'
import { itemsOf } from '../features/support.js'
import { captureLogger, testServer } from '../helpers.js'
import {
  filesUnder,
  freshStoragePath,
  memoryConfig,
  productionConfig,
  quietConfig,
  receivedFeatures,
  recordEverything,
  TRACKED,
} from './support.js'

afterEach(() => {
  vi.unstubAllEnvs()
})

/** Off switches set before start: environment variables and config. */
const STARTUP_SWITCHES: {
  name: string
  env: Record<string, string>
  disabled: boolean
  decidedBy: StatusDecider
}[] = [
  { name: 'DO_NOT_TRACK=1', env: { DO_NOT_TRACK: '1' }, disabled: false, decidedBy: 'DO_NOT_TRACK' },
  { name: 'DO_NOT_TRACK=true', env: { DO_NOT_TRACK: 'true' }, disabled: false, decidedBy: 'DO_NOT_TRACK' },
  {
    name: 'TELEMETER_DISABLED=1',
    env: { TELEMETER_DISABLED: '1' },
    disabled: false,
    decidedBy: 'TELEMETER_DISABLED',
  },
  {
    name: 'TELEMETER_DISABLED=true',
    env: { TELEMETER_DISABLED: 'TRUE' },
    disabled: false,
    decidedBy: 'TELEMETER_DISABLED',
  },
  { name: 'disabled: true in config', env: {}, disabled: true, decidedBy: 'config.disabled' },
]

describe('off switches set at start', () => {
  it.each(STARTUP_SWITCHES)(
    '$name: nothing is queued, stored, fetched or sent, and no socket is opened',
    async ({ env, disabled, decidedBy }) => {
      const server = await testServer({ remoteConfig: { dark_mode: true } })
      const storagePath = await freshStoragePath()
      for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value)
      const dropped: DropInfo[] = []
      const telemeter = createTelemeter({
        ...productionConfig(server, storagePath),
        disabled,
        captureUncaught: true,
        hashIdentifiers: true,
      })
      telemeter.on('dropped', (info) => dropped.push(info))
      const instance = telemeter.instance({ trackCI: true, properties: () => ({ users: 3 }) })
      instance.count('report.created')
      instance.section('settings/users')
      instance.captureError(new Error('backup failed'))

      expect(await recordEverything(telemeter)).toEqual({})
      expect(await recordEverything(telemeter.forDevice('user-1'))).toEqual({})
      telemeter.setEnabled(true)
      telemeter.reportAppStart()
      await telemeter.flush()
      await telemeter.shutdown()

      expect(server.connections).toBe(0)
      expect(server.requests).toEqual([])
      expect(await filesUnder(storagePath)).toEqual([])
      expect(telemeter.deviceId).toBe('')
      expect(instance.instanceId).toBeUndefined()
      expect(telemeter.stats()).toMatchObject({ queued: 0, sent: 0, retried: 0, pendingEvents: 0 })
      expect(dropped.every((info) => info.reason === 'disabled' && info.requests === 0)).toBe(true)
      expect(telemeter.status()).toMatchObject({ enabled: false, decidedBy })
      expect(instance.status()).toMatchObject({ enabled: false, decidedBy, instanceId: undefined })
    },
  )

  it.each([
    ['DO_NOT_TRACK=0', { DO_NOT_TRACK: '0' }],
    ['DO_NOT_TRACK=""', { DO_NOT_TRACK: '' }],
    ['DO_NOT_TRACK=no', { DO_NOT_TRACK: 'no' }],
    ['TELEMETER_DISABLED=0', { TELEMETER_DISABLED: '0' }],
  ])('%s has no effect: telemetry runs', async (_name, env) => {
    const server = await testServer()
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value)
    const telemeter = createTelemeter({
      ...memoryConfig(server),
    })
    telemeter.forDevice('user-1').event('report.created')
    await telemeter.flush()
    await telemeter.shutdown()
    expect(telemeter.status()).toMatchObject({ enabled: true, decidedBy: 'default' })
    expect(server.events({ key: 'report.created', deviceId: 'user-1' })).toHaveLength(1)
    expect(server.violations).toEqual([])
  })

  it('applies the documented order: DO_NOT_TRACK, TELEMETER_DISABLED, disabled, then the stored choice', async () => {
    const server = await testServer()
    const storagePath = await freshStoragePath()
    const base = quietConfig(server, storagePath)
    const decided = (disabled: boolean) => {
      const telemeter = createTelemeter({ ...base, disabled })
      const status = telemeter.status()
      void telemeter.shutdown()
      return status
    }
    vi.stubEnv('DO_NOT_TRACK', '1')
    vi.stubEnv('TELEMETER_DISABLED', '1')
    expect(decided(true)).toMatchObject({
      decidedBy: 'DO_NOT_TRACK',
      reason: 'DO_NOT_TRACK is set in the environment',
    })
    vi.stubEnv('DO_NOT_TRACK', '0')
    expect(decided(true)).toMatchObject({ decidedBy: 'TELEMETER_DISABLED' })
    vi.unstubAllEnvs()
    expect(decided(true)).toMatchObject({ decidedBy: 'config.disabled' })

    // The stored operator choice comes last: it cannot switch on what a higher switch keeps off.
    const first = createTelemeter(base)
    first.setEnabled(true)
    await first.shutdown()
    vi.stubEnv('TELEMETER_DISABLED', 'true')
    const connectionsBefore = server.connections
    const second = createTelemeter(base)
    await second.flush()
    expect(second.status()).toMatchObject({ enabled: false, decidedBy: 'TELEMETER_DISABLED' })
    second.setEnabled(true)
    expect(second.status().decidedBy).toBe('TELEMETER_DISABLED')
    await second.shutdown()
    expect(server.connections).toBe(connectionsBefore)
  })
})

describe('the stored operator choice', () => {
  it('set off in a previous run: the next run opens no connection, not even for data recorded before storage opened', async () => {
    const storagePath = await freshStoragePath()
    const firstServer = await testServer()
    const first = createTelemeter(productionConfig(firstServer, storagePath))
    first.setEnabled(false)
    await first.shutdown()
    expect(firstServer.connections).toBe(0)

    const server = await testServer({ remoteConfig: { dark_mode: true } })
    const dropped: DropInfo[] = []
    const second = createTelemeter({ ...productionConfig(server, storagePath), captureUncaught: true })
    second.on('dropped', (info) => dropped.push(info))
    // Recorded at once: storage (and with it the stored choice) is not open yet.
    second.event('recorded-before-ready')
    second.forDevice('user-1').captureError(new Error('early'))
    const instance = second.instance({ trackCI: true })
    instance.count('report.created')
    await second.flush()
    expect(second.status()).toMatchObject({
      enabled: false,
      decidedBy: 'operator',
      reason: 'switched off by the operator (stored choice)',
    })
    await recordEverything(second.forDevice('user-2'))
    await second.flush()
    await second.shutdown()

    expect(server.connections).toBe(0)
    expect(second.deviceId).toBe('')
    expect(instance.instanceId).toBeUndefined()
    expect(second.stats()).toMatchObject({ queued: 0, sent: 0 })
    expect(dropped.filter((info) => info.reason !== 'disabled')).toEqual([])

    // Switched back on in a third run: it reports again, under a newly created id.
    const third = createTelemeter({ ...productionConfig(server, storagePath), remoteConfig: { auto: false } })
    third.setEnabled(true)
    third.forDevice('user-3').event('back')
    await third.flush()
    await third.shutdown()
    expect(server.events({ key: 'back', deviceId: 'user-3' })).toHaveLength(1)
    expect(third.deviceId).not.toBe('')
    expect(server.violations).toEqual([])
  })

  it('switched off at run time: queued data is dropped, later data is refused at record time, nothing more is sent', async () => {
    const server = await testServer()
    const logger = captureLogger()
    const telemeter = createTelemeter({
      ...memoryConfig(server),
      debug: logger,
    })
    const dropped: DropInfo[] = []
    telemeter.on('dropped', (info) => dropped.push(info))
    const user = telemeter.forDevice('user-1')
    user.event('delivered')
    await telemeter.flush()
    expect(server.events({ key: 'delivered', deviceId: 'user-1' })).toHaveLength(1)

    server.setFault({ type: 'down' })
    user.event('queued')
    user.captureError(new Error('queued crash'))
    await telemeter.flush()
    expect(telemeter.stats().queued).toBe(2)
    user.event('pending') // not yet batched into a request

    telemeter.setEnabled(false)
    expect(telemeter.stats()).toMatchObject({ queued: 0, pendingEvents: 0 })
    // Two queued requests, and the pending event refused as it was about to become one.
    expect(dropped).toEqual([
      { reason: 'disabled', requests: 0, events: 1, feature: 'events' },
      {
        reason: 'disabled',
        requests: 2,
        events: 1,
        feature: 'events',
        detail: 'telemetry switched off by the operator',
      },
    ])
    user.event('refused')
    user.setUserDetails({ name: 'Ada' })
    expect(telemeter.stats()).toMatchObject({ queued: 0, pendingEvents: 0 })
    server.setFault(null)
    const itemsBefore = server.items.length
    await telemeter.flush()
    expect(server.items.length).toBe(itemsBefore)
    expect(telemeter.status()).toMatchObject({ enabled: false, decidedBy: 'operator' })

    telemeter.setEnabled(true)
    user.event('after')
    await telemeter.flush()
    await telemeter.shutdown()
    expect(
      itemsOf(server, 'user-1').flatMap((item) => (item.params.events as { key: string }[]) ?? []),
    ).toEqual([expect.objectContaining({ key: 'delivered' }), expect.objectContaining({ key: 'after' })])
    expect(server.violations).toEqual([])
  })

  it('is checked again at send time: a request queued while on is not sent once switched off', async () => {
    const server = await testServer()
    const storagePath = await freshStoragePath()
    const config = quietConfig(server, storagePath)
    // A request left in storage by a run that ended before it could be sent...
    server.setFault({ type: 'down' })
    const first = createTelemeter(config)
    first.event('left-over')
    await first.flush()
    await first.shutdown({ timeoutMs: 0 })
    expect(first.stats().queued).toBeGreaterThan(0)
    server.setFault(null)
    // ...then switched off by an operator tool writing the choice before this run (here: an early setEnabled).
    const connectionsBefore = server.connections
    const second = createTelemeter(config)
    second.setEnabled(false)
    await second.flush()
    await second.shutdown()
    expect(server.connections).toBe(connectionsBefore)
    expect(server.events({ key: 'left-over' })).toEqual([])
    expect(second.stats()).toMatchObject({ queued: 0, sent: 0 })
    expect(second.stats().dropped).toBeGreaterThan(0)
  })
})

describe('every category of the policy, switched off by config', () => {
  it('all on: every feature reaches the server', async () => {
    const server = await testServer({ remoteConfig: { dark_mode: true } })
    const telemeter = createTelemeter({
      ...memoryConfig(server),
      remoteConfig: { auto: true },
    })
    expect(await recordEverything(telemeter.forDevice('user-1'))).toEqual({ dark_mode: true })
    await telemeter.flush()
    await telemeter.shutdown()
    expect(receivedFeatures(server, 'user-1')).toEqual(
      Object.fromEntries(TRACKED.map((feature) => [feature, true])),
    )
    expect(server.violations).toEqual([])
  })

  it.each(TRACKED)('%s: false keeps exactly that feature off', async (feature) => {
    const server = await testServer({ remoteConfig: { dark_mode: true } })
    const telemeter = createTelemeter({
      ...memoryConfig(server),
      remoteConfig: { auto: true },
      tracking: { [feature]: false },
    })
    const remoteConfig = await recordEverything(telemeter.forDevice('user-1'))
    await telemeter.flush()
    await telemeter.shutdown()
    const expected = Object.fromEntries(TRACKED.map((name) => [name, name !== feature]))
    // Location set outside a session goes out with the next session start: no sessions, no location.
    if (feature === 'sessions') expected.location = false
    expect(receivedFeatures(server, 'user-1')).toEqual(expected)
    expect(remoteConfig).toEqual(feature === 'remote-config' ? {} : { dark_mode: true })
    expect(telemeter.status().tracking[feature]).toBe(false)
    expect(server.violations).toEqual([])
  })

  it('a feature runs only when both the policy and consent allow it', async () => {
    const server = await testServer()
    const telemeter = createTelemeter({
      ...memoryConfig(server),
      requireConsent: true,
      tracking: { events: false },
    })
    const user = telemeter.forDevice('user-1')
    user.giveConsent('events', 'views')
    user.event('policy-says-no')
    user.view('consent-and-policy-say-yes')
    user.captureError(new Error('no consent for crashes'))
    await telemeter.flush()
    await telemeter.shutdown()
    expect(server.events({ key: 'policy-says-no' })).toEqual([])
    expect(server.crashes('user-1')).toEqual([])
    expect(server.events({ key: '[CLY]_view', deviceId: 'user-1' })).toEqual([
      expect.objectContaining({ name: 'consent-and-policy-say-yes' }),
    ])
    expect(server.violations).toEqual([])
  })
})
