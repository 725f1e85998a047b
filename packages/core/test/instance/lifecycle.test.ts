import { readFile } from 'node:fs/promises'
import { hostname, networkInterfaces } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { createTelemeter } from '../../src/index.js'
import { osName, osVersion } from '../../src/internal/environment.js'
import { INSTANCE_EVENTS } from '../../src/internal/instance-options.js'
import { APP_KEY, onCleanup, testServer } from '../helpers.js'
import { freshStoragePath } from '../policy/support.js'
import { HOUR_MS, instanceEvents, instanceOn, instanceSetup, TestClock, utcDayStart } from './support.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

const ENVIRONMENT = {
  os: osName(),
  os_version: osVersion(),
  runtime: 'node',
  runtime_version: process.versions.node,
  app_version: '3.1.0',
}

async function storedValues(storagePath: string): Promise<Record<string, string>> {
  return JSON.parse(await readFile(join(storagePath, 'state.json'), 'utf8').catch(() => '{}'))
}

describe('instance id', () => {
  it('is a random UUID of its own, persisted, reported under its own device, never a hostname or IP', async () => {
    const server = await testServer()
    const storagePath = await freshStoragePath()
    const config = {
      url: server.url,
      appKey: APP_KEY,
      storagePath,
      sessions: 'manual' as const,
      serverConfig: false,
      flushIntervalMs: 20,
      deviceId: hostname(),
    }
    const clock = new TestClock(utcDayStart(1) + 9 * HOUR_MS)
    const first = createTelemeter(config)
    const instance = instanceOn(first, clock)
    expect(instance.instanceId).toBeUndefined() // storage is not open yet
    await first.flush()
    const id = instance.instanceId
    expect(id).toMatch(UUID)
    expect(id).not.toBe(first.deviceId)
    await first.shutdown()
    expect((await storedValues(storagePath)).instanceId).toBe(id)

    const second = createTelemeter(config)
    const again = instanceOn(second, clock)
    await second.flush()
    expect(again.instanceId).toBe(id)
    await second.shutdown()

    expect(instanceEvents(server, id, INSTANCE_EVENTS.start)).toHaveLength(2)
    expect(server.events({ deviceId: hostname(), key: INSTANCE_EVENTS.start })).toEqual([])
    const addresses = Object.values(networkInterfaces())
      .flat()
      .map((address) => address?.address ?? '')
      .filter((address) => address !== '')
    const instanceItems = server.items.filter((item) => item.device_id === id)
    expect(instanceItems.length).toBeGreaterThan(0)
    for (const item of instanceItems) {
      const text = JSON.stringify(item.params)
      expect(text).not.toContain(hostname())
      for (const address of addresses) expect(text).not.toContain(`"${address}"`)
    }
    expect(server.violations).toEqual([])
  })

  it('resetInstanceId() forgets the id: a new one reports from then on, with its own start event', async () => {
    const { server, telemeter, instance } = await instanceSetup()
    await telemeter.flush()
    const old = instance.instanceId
    instance.resetInstanceId()
    const renewed = instance.instanceId
    expect(renewed).toMatch(UUID)
    expect(renewed).not.toBe(old)
    instance.captureError(new Error('after reset'))
    await telemeter.flush()
    expect(instanceEvents(server, old, INSTANCE_EVENTS.start)).toHaveLength(1)
    expect(instanceEvents(server, renewed, INSTANCE_EVENTS.start)).toHaveLength(1)
    expect(server.crashes(renewed)).toHaveLength(1)
    expect(server.crashes(old)).toEqual([])
    expect(instance.status().instanceId).toBe(renewed)
  })

  it('is created only once telemetry is allowed to run: not while the operator keeps it off', async () => {
    const server = await testServer()
    const storagePath = await freshStoragePath()
    const config = {
      url: server.url,
      appKey: APP_KEY,
      storagePath,
      sessions: 'manual' as const,
      serverConfig: false,
    }
    const clock = new TestClock(utcDayStart(1) + 9 * HOUR_MS)
    const first = createTelemeter(config)
    first.setEnabled(false)
    const instance = instanceOn(first, clock)
    instance.count('report.created')
    await first.flush()
    expect(instance.instanceId).toBeUndefined()
    expect(instance.status()).toMatchObject({ enabled: false, decidedBy: 'operator', instanceId: undefined })
    await first.shutdown()
    expect(await storedValues(storagePath)).not.toHaveProperty('instanceId')
    expect(server.connections).toBe(0)

    const second = createTelemeter(config)
    const later = instanceOn(second, clock)
    await second.flush()
    expect(later.instanceId).toBeUndefined()
    second.setEnabled(true)
    const id = later.instanceId
    expect(id).toMatch(UUID)
    await second.flush()
    await second.shutdown()
    expect(instanceEvents(server, id, INSTANCE_EVENTS.start)).toHaveLength(1)
    expect(instanceEvents(server, id, 'report.created')).toEqual([])
  })

  it('returns one handle per Telemeter', async () => {
    const { telemeter, instance, logger } = await instanceSetup()
    expect(telemeter.instance()).toBe(instance)
    expect(telemeter.instance({ heartbeatIntervalMs: 120_000 })).toBe(instance)
    expect(logger.warnings()).toEqual([expect.stringContaining('instance() was already called')])
  })
})

describe('uptime', () => {
  it('start and stop events carry OS, runtime and app version and the uptime in seconds', async () => {
    const { server, telemeter, instance, clock } = await instanceSetup({ config: { appVersion: '3.1.0' } })
    await telemeter.flush()
    clock.advance(90_000)
    await telemeter.shutdown()
    const id = instance.instanceId
    const [start] = instanceEvents(server, id, INSTANCE_EVENTS.start)
    const [stop] = instanceEvents(server, id, INSTANCE_EVENTS.stop)
    expect(start).toMatchObject({
      count: 1,
      dur: 0,
      segmentation: ENVIRONMENT,
      timestamp: clock.now - 90_000,
    })
    expect(stop).toMatchObject({ count: 1, dur: 90, segmentation: ENVIRONMENT, timestamp: clock.now })
    expect(server.violations).toEqual([])
  })

  it('a heartbeat every heartbeatIntervalMs carries the uptime', async () => {
    const { server, telemeter, clock } = await instanceSetup({ config: { appVersion: '3.1.0' } })
    await telemeter.flush()
    // A fresh Telemeter whose heartbeat timer runs on fake intervals (the first one's is real).
    const other = createTelemeter({
      url: server.url,
      appKey: APP_KEY,
      storage: 'memory',
      sessions: 'manual',
      serverConfig: false,
      appVersion: '3.1.0',
    })
    onCleanup(() => other.shutdown({ timeoutMs: 500 }))
    await other.flush()
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    try {
      const instance = instanceOn(other, clock, { heartbeatIntervalMs: 120_000 })
      await other.flush()
      for (let beat = 0; beat < 3; beat++) {
        clock.advance(120_000)
        vi.advanceTimersByTime(120_000)
      }
      await other.flush()
      const beats = instanceEvents(server, instance.instanceId, INSTANCE_EVENTS.heartbeat)
      expect(beats.map((event) => event.dur)).toEqual([120, 240, 360])
      expect(beats[0]?.segmentation).toEqual(ENVIRONMENT)
      expect(instance.status()).toMatchObject({ heartbeatIntervalMs: 120_000, uptimeSeconds: 360 })
    } finally {
      vi.useRealTimers()
    }
    expect(telemeter.instance().status().heartbeatIntervalMs).toBe(6 * HOUR_MS)
    expect(server.violations).toEqual([])
  })

  it('heartbeatIntervalMs below a minute is raised to a minute, with a warning', async () => {
    const { instance, logger } = await instanceSetup({ instance: { heartbeatIntervalMs: 1_000 } })
    expect(instance.status().heartbeatIntervalMs).toBe(60_000)
    expect(logger.warnings()).toEqual([expect.stringContaining('below one minute')])
  })

  it('after shutdown, instance calls are ignored with a warning', async () => {
    const { server, telemeter, instance, logger } = await instanceSetup()
    await telemeter.shutdown()
    instance.count('late')
    instance.section('late')
    instance.count('late')
    expect(telemeter.instance()).toBe(instance)
    expect(instanceEvents(server, instance.instanceId, 'late')).toEqual([])
    expect(logger.warnings()).toEqual([
      '[telemeter] instance.count() called after shutdown(); ignored',
      '[telemeter] instance.section() called after shutdown(); ignored',
    ])
  })
})
