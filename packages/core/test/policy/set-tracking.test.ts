import { describe, expect, it } from 'vitest'
import type { DropInfo } from '../../src/index.js'
import { setup } from '../helpers.js'
import { receivedFeatures, recordEverything, TRACKED } from './support.js'

describe('setTracking at run time', () => {
  it('purges queued and pending data of every feature switched off, keeps the rest', async () => {
    const { server, telemeter } = await setup()
    const dropped: DropInfo[] = []
    telemeter.on('dropped', (info) => dropped.push(info))
    const user = telemeter.forDevice('user-1')
    server.setFault({ type: 'down' })
    user.event('queued-event')
    user.recordRating({ rating: 4 })
    user.captureError(new Error('kept crash'))
    user.setUserDetails({ name: 'Ada' })
    await telemeter.flush()
    expect(telemeter.stats().queued).toBe(4)
    user.event('pending-event')
    user.view('pending-view')

    telemeter.setTracking({ events: false, feedback: false, views: false })

    expect(telemeter.stats()).toMatchObject({ queued: 2, pendingEvents: 0 })
    const policyDrops = dropped.filter((info) => info.reason === 'policy')
    expect(policyDrops).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ feature: 'events', requests: 1, events: 1 }),
        expect.objectContaining({ feature: 'events', requests: 0, events: 1 }),
        expect.objectContaining({ feature: 'star-rating', requests: 1, events: 1 }),
        expect.objectContaining({ feature: 'views', requests: 0, events: 1 }),
      ]),
    )
    user.event('refused-event')
    user.recordRating({ rating: 5 })
    expect(telemeter.stats()).toMatchObject({ queued: 2, pendingEvents: 0 })

    server.setFault(null)
    await telemeter.flush()
    expect(server.events({ deviceId: 'user-1' }).map((event) => event.key)).toEqual(['[CLY]_crash'])
    expect(server.crashes('user-1')).toEqual([
      expect.objectContaining({ error: expect.stringContaining('kept crash') }),
    ])
    expect(server.user('user-1')?.name).toBe('Ada')

    // Switched back on, the features record again.
    telemeter.setTracking({ events: true, feedback: true })
    user.event('after')
    user.recordRating({ rating: 3 })
    await telemeter.flush()
    expect(server.events({ key: 'after', deviceId: 'user-1' })).toHaveLength(1)
    expect(server.events({ key: '[CLY]_star_rating', deviceId: 'user-1' })).toEqual([
      expect.objectContaining({ segmentation: expect.objectContaining({ rating: 3 }) }),
    ])
    expect(telemeter.status().tracking).toMatchObject({
      events: true,
      feedback: true,
      'star-rating': true,
      views: false,
    })
    expect(server.violations).toEqual([])
  })

  it.each(TRACKED)('%s switched off at run time stops exactly that feature', async (feature) => {
    const { server, telemeter } = await setup({}, { remoteConfig: { dark_mode: true } })
    telemeter.setTracking({ [feature]: false })
    await recordEverything(telemeter.forDevice('user-1'))
    await telemeter.flush()
    const expected = Object.fromEntries(TRACKED.map((name) => [name, name !== feature]))
    if (feature === 'sessions') expected.location = false
    expect(receivedFeatures(server, 'user-1')).toEqual(expected)
    expect(server.violations).toEqual([])
  })

  it('star-rating is the feedback switch under its consent name', async () => {
    const { server, telemeter } = await setup()
    telemeter.setTracking({ 'star-rating': false })
    expect(telemeter.status().tracking).toMatchObject({ feedback: false, 'star-rating': false })
    telemeter.forDevice('user-1').recordRating({ rating: 5 })
    await telemeter.flush()
    expect(server.events({ key: '[CLY]_star_rating' })).toEqual([])
  })

  it('switching sessions off and on again begins the automatic session again', async () => {
    const { server, telemeter } = await setup({ sessions: 'auto' }, { sessionCooldownS: 0 })
    await telemeter.flush()
    const self = telemeter.deviceId
    expect(server.events({ key: '[CLY]_session_begin', deviceId: self })).toHaveLength(1)
    telemeter.setTracking({ sessions: false })
    telemeter.setTracking({ sessions: true })
    await telemeter.flush()
    expect(server.events({ key: '[CLY]_session_begin', deviceId: self })).toHaveLength(2)
    expect(server.violations).toEqual([])
  })

  it('ignores what is not a policy, with one warning', async () => {
    const { telemeter, logger } = await setup()
    telemeter.setTracking(null as never)
    telemeter.setTracking('off' as never)
    telemeter.setTracking({ crashes: 'no' as never, unknown: false } as never)
    expect(logger.warnings()).toEqual([expect.stringContaining('setTracking needs an object')])
    expect(telemeter.status().tracking.crashes).toBe(true)
  })
})
