import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createTelemeter, type TelemeterConfig } from '../../src/index.js'
import { MAX_DAILY_KEYS } from '../../src/internal/instance-counters.js'
import { INSTANCE_EVENTS } from '../../src/internal/instance-options.js'
import { APP_KEY, testServer } from '../helpers.js'
import { freshStoragePath } from '../policy/support.js'
import {
  DAY_MS,
  HOUR_MS,
  instanceEvents,
  instanceOn,
  instanceSetup,
  isoDay,
  TestClock,
  utcDayStart,
} from './support.js'

/** Events Countly stores for the day's totals: one per key, at the day's midday (bumped by 1 ms when equal). */
function midday(dayStart: number): number {
  return dayStart + 12 * HOUR_MS
}

async function storedCounters(storagePath: string): Promise<unknown> {
  const values = JSON.parse(await readFile(join(storagePath, 'state.json'), 'utf8')) as Record<string, string>
  return values.instanceCounters === undefined ? undefined : JSON.parse(values.instanceCounters)
}

describe('feature usage and sections, per day', () => {
  it('adds counts up during the day and sends one event per key with the total once the day is over', async () => {
    const dayStart = utcDayStart(3)
    const { server, telemeter, instance, clock } = await instanceSetup({
      clock: new TestClock(dayStart + 9 * HOUR_MS),
    })
    instance.count('report.created')
    instance.count('report.created')
    instance.count('report.created', 3)
    instance.count('rows.imported', 1200)
    instance.section('settings/users')
    instance.section('settings/users')
    instance.section('dashboard')
    clock.advance(10 * HOUR_MS) // 19:00, same day
    instance.count('report.created')
    await telemeter.flush()
    const id = instance.instanceId
    expect(instanceEvents(server, id, 'report.created')).toEqual([])
    expect(instanceEvents(server, id, INSTANCE_EVENTS.section)).toEqual([])
    expect(instance.status().countingDay).toBe(isoDay(dayStart))

    clock.advance(6 * HOUR_MS) // 01:00 the next day: the first count notices the day is over
    instance.count('report.created')
    await telemeter.flush()

    const noon = midday(dayStart)
    const near = (timestamp: number) => timestamp >= noon && timestamp < noon + 10
    const [created] = instanceEvents(server, id, 'report.created')
    expect(created).toMatchObject({ count: 6, segmentation: {} })
    expect(near(created!.timestamp)).toBe(true)
    expect(instanceEvents(server, id, 'rows.imported')).toEqual([expect.objectContaining({ count: 1200 })])
    const sections = instanceEvents(server, id, INSTANCE_EVENTS.section)
    expect(sections.map((event) => [event.segmentation.section, event.count]).sort()).toEqual([
      ['dashboard', 1],
      ['settings/users', 2],
    ])
    expect(sections.every((event) => near(event.timestamp))).toBe(true)
    expect(instance.status().countingDay).toBe(isoDay(dayStart + DAY_MS))

    // The new day's count goes with the new day.
    clock.advance(DAY_MS)
    instance.section('dashboard')
    await telemeter.flush()
    const totals = instanceEvents(server, id, 'report.created').map((event) => event.count)
    expect(totals).toEqual([6, 1])
    expect(server.violations).toEqual([])
  })

  it('counts survive a restart mid-day and the day is sent once, by the run that sees it end', async () => {
    const server = await testServer()
    const storagePath = await freshStoragePath()
    const config: TelemeterConfig = {
      url: server.url,
      appKey: APP_KEY,
      storagePath,
      sessions: 'manual',
      serverConfig: false,
      flushIntervalMs: 20,
    }
    const dayStart = utcDayStart(2)
    const clock = new TestClock(dayStart + 8 * HOUR_MS)

    const first = createTelemeter(config)
    const morning = instanceOn(first, clock)
    morning.count('report.created', 2)
    morning.section('settings/users')
    await first.flush()
    await first.shutdown()
    expect(await storedCounters(storagePath)).toEqual({
      day: isoDay(dayStart),
      features: { 'report.created': 2 },
      sections: { 'settings/users': 1 },
    })

    clock.advance(6 * HOUR_MS)
    const second = createTelemeter(config)
    const afternoon = instanceOn(second, clock)
    afternoon.count('report.created') // before storage opened: waits for it
    await second.flush()
    afternoon.count('report.created')
    await second.shutdown()
    expect(await storedCounters(storagePath)).toMatchObject({ features: { 'report.created': 4 } })

    // The next morning the start of the third run reports the finished day.
    clock.advance(18 * HOUR_MS)
    const third = createTelemeter(config)
    const nextDay = instanceOn(third, clock)
    await third.flush()
    await third.shutdown()

    const id = nextDay.instanceId
    expect(id).toBe(morning.instanceId)
    expect(instanceEvents(server, id, 'report.created')).toEqual([expect.objectContaining({ count: 4 })])
    expect(instanceEvents(server, id, INSTANCE_EVENTS.section)).toEqual([
      expect.objectContaining({ count: 1, segmentation: { section: 'settings/users' } }),
    ])
    expect(instanceEvents(server, id, INSTANCE_EVENTS.start)).toHaveLength(3)
    expect(instanceEvents(server, id, INSTANCE_EVENTS.stop)).toHaveLength(3)
    expect(await storedCounters(storagePath)).toBeUndefined()
    expect(server.violations).toEqual([])
  })

  it('with memory storage, what cannot survive the restart is sent at shutdown', async () => {
    const { server, telemeter, instance } = await instanceSetup()
    instance.count('report.created', 2)
    instance.section('settings/users')
    await telemeter.flush()
    expect(instanceEvents(server, instance.instanceId, 'report.created')).toEqual([])
    await telemeter.shutdown()
    expect(instanceEvents(server, instance.instanceId, 'report.created')).toEqual([
      expect.objectContaining({ count: 2 }),
    ])
    expect(instanceEvents(server, instance.instanceId, INSTANCE_EVENTS.section)).toHaveLength(1)
  })

  it('follows the events and views switches: nothing counted while off, stored counts dropped when switched off', async () => {
    const server = await testServer()
    const storagePath = await freshStoragePath()
    const dayStart = utcDayStart(2)
    const clock = new TestClock(dayStart + 8 * HOUR_MS)
    const telemeter = createTelemeter({
      url: server.url,
      appKey: APP_KEY,
      storagePath,
      sessions: 'manual',
      serverConfig: false,
      tracking: { views: false },
    })
    const instance = instanceOn(telemeter, clock)
    instance.section('settings/users')
    instance.count('report.created', 2)
    await telemeter.flush()
    expect(await storedCounters(storagePath)).toEqual({
      day: isoDay(dayStart),
      features: { 'report.created': 2 },
      sections: {},
    })
    telemeter.setTracking({ events: false })
    instance.count('report.created')
    await telemeter.flush()
    expect(await storedCounters(storagePath)).toBeUndefined()

    telemeter.setTracking({ events: true, views: true })
    instance.count('after')
    clock.advance(DAY_MS)
    instance.count('after')
    await telemeter.flush()
    await telemeter.shutdown()
    const id = instance.instanceId
    expect(instanceEvents(server, id, 'report.created')).toEqual([])
    expect(instanceEvents(server, id, INSTANCE_EVENTS.section)).toEqual([])
    expect(instanceEvents(server, id, 'after')).toEqual([expect.objectContaining({ count: 1 })])
  })

  it('the operator switching off forgets the stored counts', async () => {
    const server = await testServer()
    const storagePath = await freshStoragePath()
    const telemeter = createTelemeter({
      url: server.url,
      appKey: APP_KEY,
      storagePath,
      sessions: 'manual',
      serverConfig: false,
    })
    const instance = instanceOn(telemeter, new TestClock(utcDayStart(1) + HOUR_MS))
    instance.count('report.created', 2)
    await telemeter.flush()
    expect(await storedCounters(storagePath)).toMatchObject({ features: { 'report.created': 2 } })
    telemeter.setEnabled(false)
    instance.count('report.created')
    await telemeter.flush()
    expect(await storedCounters(storagePath)).toBeUndefined()
    await telemeter.shutdown()
  })

  it('bounds the distinct keys per day and refuses bad input with one warning each', async () => {
    const { telemeter, instance, logger } = await instanceSetup()
    await telemeter.flush()
    for (let key = 0; key <= MAX_DAILY_KEYS; key++) instance.count(`feature.${key}`)
    instance.count('', 1)
    instance.count('ok', -2)
    instance.count('[CLY]_session')
    expect(logger.warnings()).toEqual([
      expect.stringContaining(
        `more than ${MAX_DAILY_KEYS} distinct usage keys today; "feature.${MAX_DAILY_KEYS}"`,
      ),
      expect.stringContaining('instance.count key must be a non-empty string'),
      expect.stringContaining('instance.count n must be a number >= 1'),
      expect.stringContaining('reserved [CLY]_ prefix'),
    ])
  })
})
