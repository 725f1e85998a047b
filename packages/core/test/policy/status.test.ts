import { afterEach, describe, expect, it, vi } from 'vitest'
import { createTelemeter } from '../../src/index.js'
import { APP_KEY, setup, testServer } from '../helpers.js'
import { freshStoragePath, quietConfig } from './support.js'

afterEach(() => {
  vi.unstubAllEnvs()
})

const ALL_ON = {
  sessions: true,
  events: true,
  views: true,
  crashes: true,
  apm: true,
  users: true,
  location: true,
  feedback: true,
  'star-rating': true,
  'remote-config': true,
  attribution: true,
}

describe('telemeter.status()', () => {
  it('default: enabled, every feature on, where data goes without the app key', async () => {
    const server = await testServer({ pathPrefix: '/countly' })
    const telemeter = createTelemeter({
      url: `${server.url}/`,
      appKey: APP_KEY,
      storage: 'memory',
      sessions: 'manual',
      serverConfig: false,
    })
    telemeter.forDevice('user-1').event('a')
    await telemeter.flush()
    const status = telemeter.status()
    expect(status).toEqual({
      enabled: true,
      decidedBy: 'default',
      reason: 'on by default; no off switch is set',
      tracking: ALL_ON,
      consentRequired: false,
      consent: Object.keys(ALL_ON),
      printOnly: false,
      identifiersHashed: false,
      server: `http://127.0.0.1:${server.port}/countly`,
      storage: { kind: 'memory', durable: false },
      stats: {
        queued: 0,
        sent: 1,
        retried: 0,
        dropped: 0,
        sentEvents: 1,
        droppedEvents: 0,
        pendingEvents: 0,
      },
    })
    expect(JSON.stringify(status)).not.toContain(APP_KEY)
    await telemeter.shutdown()
  })

  it.each([
    ['DO_NOT_TRACK', { DO_NOT_TRACK: '1' }, false, 'DO_NOT_TRACK is set in the environment'],
    [
      'TELEMETER_DISABLED',
      { TELEMETER_DISABLED: '1' },
      false,
      'TELEMETER_DISABLED is set in the environment',
    ],
    ['config.disabled', {}, true, 'disabled: true in the configuration'],
  ] as const)('%s decides', async (decidedBy, env, disabled, reason) => {
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value)
    const telemeter = createTelemeter({
      url: 'http://127.0.0.1:9',
      appKey: APP_KEY,
      disabled,
      tracking: { crashes: false },
    })
    // The policy shows as configured even while a switch keeps everything off.
    expect(telemeter.status()).toMatchObject({
      enabled: false,
      decidedBy,
      reason,
      tracking: { ...ALL_ON, crashes: false },
    })
    await telemeter.shutdown()
  })

  it('operator decides, and the decision survives a restart', async () => {
    const server = await testServer()
    const storagePath = await freshStoragePath()
    const config = quietConfig(server, storagePath)
    const first = createTelemeter(config)
    first.setEnabled(false)
    expect(first.status()).toMatchObject({
      enabled: false,
      decidedBy: 'operator',
      reason: 'switched off by the operator (stored choice)',
      storage: { kind: 'file', durable: true },
    })
    await first.shutdown()
    const second = createTelemeter(config)
    await second.flush()
    expect(second.status()).toMatchObject({ enabled: false, decidedBy: 'operator' })
    second.setEnabled(true)
    expect(second.status()).toMatchObject({ enabled: true, decidedBy: 'default' })
    await second.shutdown()
  })

  it('server decides when the server-side SDK settings switch tracking off', async () => {
    const { telemeter } = await setup({ serverConfig: true }, { sdkConfig: { tracking: false } })
    await vi.waitFor(() => expect(telemeter.status().decidedBy).toBe('server'))
    expect(telemeter.status()).toMatchObject({
      enabled: false,
      reason: 'the server-side SDK settings switched tracking off',
    })
  })

  it('reports the effective policy, consent, print mode and hashing', async () => {
    const { telemeter } = await setup({
      tracking: { crashes: false },
      requireConsent: true,
      hashIdentifiers: true,
      debug: 'print',
    })
    vi.spyOn(console, 'info').mockImplementation(() => {})
    telemeter.giveConsent('events', 'crashes')
    telemeter.setTracking({ apm: false })
    expect(telemeter.status()).toMatchObject({
      enabled: true,
      tracking: { ...ALL_ON, crashes: false, apm: false },
      consentRequired: true,
      consent: ['events', 'crashes'],
      printOnly: true,
      identifiersHashed: true,
    })
    vi.restoreAllMocks()
  })
})
