import { describe, expect, it, vi } from 'vitest'
import { INSTANCE_EVENTS } from '../../src/internal/instance-options.js'
import { setup } from '../helpers.js'
import { instanceEvents, instanceOn, instanceSetup, TestClock, utcDayStart } from './support.js'

describe('server errors', () => {
  it('captureError reports a crash under the instance device', async () => {
    const { server, telemeter, instance } = await instanceSetup({ config: { appVersion: '3.1.0' } })
    instance.captureError(new TypeError('backup target unreachable'), { segmentation: { job: 'backup' } })
    await telemeter.flush()
    expect(server.crashes(instance.instanceId)).toEqual([
      expect.objectContaining({
        name: 'TypeError: backup target unreachable',
        nonfatal: true,
        app_version: '3.1.0',
        custom: { job: 'backup' },
      }),
    ])
    expect(server.violations).toEqual([])
  })

  it('follows the crashes switch', async () => {
    const { server, telemeter, instance } = await instanceSetup({ config: { tracking: { crashes: false } } })
    instance.captureError(new Error('not reported'))
    await telemeter.flush()
    expect(server.crashes()).toEqual([])
    telemeter.setTracking({ crashes: true })
    instance.captureError(new Error('reported'))
    await telemeter.flush()
    expect(server.crashes(instance.instanceId)).toEqual([
      expect.objectContaining({ name: 'Error: reported' }),
    ])
  })
})

describe('server properties', () => {
  it('are sampled at start and with each heartbeat and sent as custom properties of the instance device', async () => {
    const { server, telemeter } = await setup()
    await telemeter.flush()
    let users = 3
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    try {
      const clock = new TestClock(utcDayStart(1))
      const instance = instanceOn(telemeter, clock, {
        heartbeatIntervalMs: 60_000,
        properties: async () => ({ users, storage: 's3', sso: false }),
      })
      await telemeter.flush()
      const custom = () => server.user(instance.instanceId ?? '')?.custom
      await vi.waitFor(async () => {
        await telemeter.flush()
        expect(custom()).toEqual({ users: 3, storage: 's3', sso: false })
      })
      users = 5
      clock.advance(60_000)
      vi.advanceTimersByTime(60_000)
      await vi.waitFor(async () => {
        await telemeter.flush()
        expect(custom()).toEqual({ users: 5, storage: 's3', sso: false })
      })
      expect(instanceEvents(server, instance.instanceId, INSTANCE_EVENTS.heartbeat)).toHaveLength(1)
    } finally {
      vi.useRealTimers()
    }
    expect(server.violations).toEqual([])
  })

  it('a throwing callback is skipped with one warning; uptime is still reported', async () => {
    const { server, telemeter, instance, logger } = await instanceSetup({
      instance: {
        properties: () => {
          throw new Error('database is down')
        },
      },
    })
    await telemeter.flush()
    instance.resetInstanceId()
    instance.resetInstanceId()
    await telemeter.flush()
    expect(logger.warnings()).toEqual([
      '[telemeter] instance properties() threw (database is down); samples that throw are skipped',
    ])
    expect(instanceEvents(server, instance.instanceId, INSTANCE_EVENTS.start)).toHaveLength(1)
    expect(server.user(instance.instanceId ?? '')?.custom).toEqual({})
  })

  it('a callback slower than propertiesTimeoutMs is skipped with one warning', async () => {
    const { server, telemeter, instance, logger } = await instanceSetup({
      instance: { propertiesTimeoutMs: 20, properties: () => new Promise(() => {}) },
    })
    await telemeter.flush()
    await vi.waitFor(() => expect(logger.warnings()).toHaveLength(1))
    expect(logger.warnings()).toEqual([
      '[telemeter] instance properties() did not answer within 20 ms; samples that take longer are skipped',
    ])
    expect(instanceEvents(server, instance.instanceId, INSTANCE_EVENTS.start)).toHaveLength(1)
  })

  it('a callback returning something else than an object, or bad values, is warned about', async () => {
    const { server, telemeter, instance, logger } = await instanceSetup({
      instance: { properties: () => ({ users: 2, nested: { no: 1 } as never, 'a.b': 1 }) },
    })
    await telemeter.flush()
    await vi.waitFor(() => expect(server.user(instance.instanceId ?? '')?.custom).toEqual({ users: 2 }))
    expect(logger.warnings()).toHaveLength(2)
    expect(server.violations).toEqual([])
  })

  it('follows the users switch', async () => {
    const { server, telemeter, instance } = await instanceSetup({
      config: { tracking: { users: false } },
      instance: { properties: () => ({ users: 2 }) },
    })
    await telemeter.flush()
    await telemeter.flush()
    expect(instanceEvents(server, instance.instanceId, INSTANCE_EVENTS.start)).toHaveLength(1)
    expect(server.user(instance.instanceId ?? '')?.custom).toEqual({})
  })
})

describe('consent', () => {
  it("with requireConsent, product telemetry follows the consent of the Telemeter's own device", async () => {
    const { server, telemeter, instance } = await instanceSetup({ config: { requireConsent: true } })
    await telemeter.flush()
    instance.captureError(new Error('before consent'))
    instance.count('before-consent')
    telemeter.giveConsent('events', 'crashes')
    instance.captureError(new Error('after consent'))
    instance.count('after-consent')
    await telemeter.shutdown()
    const id = instance.instanceId
    expect(server.crashes(id).map((crash) => crash.name)).toEqual(['Error: after consent'])
    expect(instanceEvents(server, id, 'before-consent')).toEqual([])
    expect(instanceEvents(server, id, 'after-consent')).toEqual([expect.objectContaining({ count: 1 })])
    // No consent for sessions: no uptime events.
    expect(instanceEvents(server, id, INSTANCE_EVENTS.stop)).toEqual([])
    expect(server.violations).toEqual([])
  })
})
