import { describe, expect, it } from 'vitest'
import type { DeviceScope, DropInfo, Telemeter } from '../../src/index.js'
import { setup, tempDir, testServer } from '../helpers.js'
import { fileTelemeter, ingestRequests, itemsOf, paramsWith, sdkRequests } from './support.js'

/** Everything a scope can record, once. */
function recordEverything(scope: DeviceScope): void {
  scope.beginSession()
  scope.event('purchase', { sum: 3 })
  scope.view('home')
  scope.captureError(new Error('boom'))
  scope.reportTrace({ type: 'device', name: 'job', metrics: { duration: 5 } })
  scope.startTrace('import').end()
  scope.setUserDetails({ name: 'Ada' })
  scope.userData.increment('logins')
  scope.userData.save()
  scope.setLocation({ countryCode: 'DE' })
  scope.recordRating({ rating: 5 })
  scope.reportConversion({ campaignId: 'spring' })
  scope.endSession()
}

describe.each([
  ['the Telemeter', (telemeter: Telemeter) => telemeter as DeviceScope, 'own'],
  ['a forDevice scope', (telemeter: Telemeter) => telemeter.forDevice('user-1'), 'user-1'],
])('consent on %s', (_label, scopeOf, deviceId) => {
  it('sends nothing at all before consent, and counts what it refused', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own', requireConsent: true })
    const dropped: DropInfo[] = []
    telemeter.on('dropped', (info) => dropped.push(info))
    const scope = scopeOf(telemeter)
    // Recorded while storage opens (the stored consent is not known yet) and after.
    recordEverything(scope)
    await telemeter.flush()
    recordEverything(scope)
    expect(await scope.fetchRemoteConfig()).toEqual({})
    expect(scope.hasConsent('events')).toBe(false)
    await telemeter.flush()

    expect(ingestRequests(server)).toEqual([])
    expect(sdkRequests(server, 'rc')).toEqual([])
    expect(telemeter.stats()).toMatchObject({ queued: 0, sent: 0, pendingEvents: 0 })
    expect(dropped.every((info) => info.reason === 'consent' && info.requests === 0)).toBe(true)
    expect(new Set(dropped.map((info) => info.feature))).toEqual(
      new Set([
        'sessions',
        'events',
        'views',
        'crashes',
        'apm',
        'users',
        'location',
        'star-rating',
        'attribution',
      ]),
    )

    scope.giveConsent('events')
    scope.event('after')
    scope.view('refused')
    await telemeter.flush()
    expect(paramsWith(server, deviceId, 'consent').map((p) => p.consent)).toEqual([{ events: true }])
    expect(server.events({ deviceId }).map((e) => e.key)).toEqual(['[CLY]_consent', 'after'])
    expect(server.user(deviceId)?.consent).toEqual({ events: true })
    expect(server.violations).toEqual([])
  })

  it('sends only the changed features, ignores repeated calls, and expands groups', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own', requireConsent: true })
    await telemeter.flush()
    telemeter.groupFeatures({ activity: ['sessions', 'events', 'views'] })
    const scope = scopeOf(telemeter)
    scope.giveConsent('events', 'crashes')
    scope.giveConsent('events')
    scope.giveConsent('activity')
    scope.giveConsent('activity', 'crashes')
    expect(scope.hasConsent('activity')).toBe(true)
    scope.removeConsent('views')
    expect(scope.hasConsent('activity')).toBe(false)
    expect(scope.hasConsent('events')).toBe(true)
    scope.removeConsent('views')
    scope.removeConsent('location')
    scope.giveConsent('no-such-feature')
    await telemeter.flush()

    expect(paramsWith(server, deviceId, 'consent').map((p) => p.consent)).toEqual([
      { events: true, crashes: true },
      { sessions: true, views: true },
      { views: false },
    ])
    expect(server.user(deviceId)?.consent).toEqual({
      events: true,
      crashes: true,
      sessions: true,
      views: false,
    })
    const changes = server.events({ key: '[CLY]_consent', deviceId }).map((e) => e.segmentation)
    expect(changes).toEqual([
      { events: 'true', events_bf: null, crashes: 'true', crashes_bf: null, _type: 'i' },
      {
        events_bf: true,
        crashes_bf: true,
        sessions: 'true',
        sessions_bf: null,
        views: 'true',
        views_bf: null,
        _type: 'i',
      },
      { events_bf: true, crashes_bf: true, sessions_bf: true, views: 'false', views_bf: true, _type: 'o' },
    ])
    expect(server.violations).toEqual([])
  })

  it('drops pending data of a feature whose consent is removed', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own', requireConsent: true })
    await telemeter.flush()
    const scope = scopeOf(telemeter)
    scope.giveConsent('events', 'views')
    scope.event('pending-event')
    scope.view('kept-view')
    scope.removeConsent('events')
    await telemeter.flush()
    expect(
      server
        .events({ deviceId })
        .map((e) => e.key)
        .sort(),
    ).toEqual(['[CLY]_consent', '[CLY]_consent', '[CLY]_view'])
    expect(server.user(deviceId)?.consent).toEqual({ events: false, views: true })
    expect(server.violations).toEqual([])
  })

  it('drops queued, unsent data of a feature whose consent is removed', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own', requireConsent: true })
    const dropped: DropInfo[] = []
    telemeter.on('dropped', (info) => dropped.push(info))
    const scope = scopeOf(telemeter)
    scope.giveConsent('events', 'crashes')
    await telemeter.flush()
    server.setFault({ type: 'down' })
    scope.event('queued-event')
    scope.captureError(new Error('queued crash'))
    await telemeter.flush()
    expect(telemeter.stats().queued).toBe(2)

    scope.removeConsent('events')
    expect(telemeter.stats().queued).toBe(2) // the crash stays, the consent change joins it
    server.setFault(null)
    await telemeter.flush()

    expect(server.events({ key: 'queued-event' })).toEqual([])
    expect(server.crashes(deviceId).map((c) => c.name)).toEqual(['Error: queued crash'])
    expect(dropped).toContainEqual({ reason: 'consent', requests: 1, events: 1, feature: 'events' })
    expect(server.user(deviceId)?.consent).toEqual({ events: false, crashes: true })
    expect(server.violations).toEqual([])
  })

  it('ends the running session when sessions consent is removed', async () => {
    const { server, telemeter } = await setup(
      { deviceId: 'own', requireConsent: true },
      { sessionCooldownS: 0 },
    )
    const scope = scopeOf(telemeter)
    scope.giveConsent('sessions')
    scope.beginSession()
    await telemeter.flush()
    expect(server.user(deviceId)?.hos).toBe(true)
    scope.removeConsent('sessions')
    scope.beginSession()
    await telemeter.flush()
    expect(server.user(deviceId)).toMatchObject({ hos: false, sc: 1 })
    expect(server.events({ key: '[CLY]_session', deviceId })).toHaveLength(1)
    expect(server.violations).toEqual([])
  })

  it('sends the location opt-out with begin_session while location has no consent', async () => {
    const { server, telemeter } = await setup(
      { deviceId: 'own', requireConsent: true },
      { sessionCooldownS: 0 },
    )
    await telemeter.flush()
    const scope = scopeOf(telemeter)
    scope.giveConsent('sessions')
    scope.setLocation({ countryCode: 'DE', city: 'Berlin' })
    scope.beginSession()
    scope.endSession()
    await telemeter.flush()
    const [first] = paramsWith(server, deviceId, 'begin_session')
    expect(first?.location).toBe('')
    expect(first?.country_code).toBeUndefined()
    expect(server.user(deviceId)).toMatchObject({ country_code: 'Unknown', city: 'Unknown' })

    scope.giveConsent('location')
    scope.setLocation({ countryCode: 'DE', city: 'Berlin' })
    scope.beginSession()
    await telemeter.flush()
    const second = paramsWith(server, deviceId, 'begin_session')[1]
    expect(second).toMatchObject({ country_code: 'DE', city: 'Berlin' })
    expect(second?.location).toBeUndefined()
    expect(server.user(deviceId)).toMatchObject({ country_code: 'DE', city: 'Berlin' })
    expect(server.violations).toEqual([])
  })
})

describe('consent persistence', () => {
  it('keeps the instance device consent across a restart (file storage)', async () => {
    const server = await testServer({ sessionCooldownS: 0 })
    const dir = await tempDir()
    const first = fileTelemeter(server, dir, { requireConsent: true }).telemeter
    first.giveConsent('events', 'sessions')
    first.event('first-life')
    await first.flush()
    await first.shutdown()
    const deviceId = first.deviceId

    const { telemeter: second } = fileTelemeter(server, dir, { requireConsent: true, sessions: 'auto' })
    second.event('second-life')
    second.view('no-consent')
    await second.flush()
    expect(second.deviceId).toBe(deviceId)
    expect(second.hasConsent('events')).toBe(true)
    expect(second.hasConsent('sessions')).toBe(true)
    expect(second.hasConsent('views')).toBe(false)
    expect(
      server
        .events({ deviceId })
        .map((e) => e.key)
        .sort(),
    ).toEqual(['[CLY]_consent', '[CLY]_session_begin', 'first-life', 'second-life'])
    // No consent request the second time: nothing changed.
    expect(paramsWith(server, deviceId, 'consent')).toHaveLength(1)
    expect(itemsOf(server, deviceId).some((item) => item.params.begin_session !== undefined)).toBe(true)
    await second.shutdown()

    // Consent given and removed while storage opens is applied on top of the stored one.
    const { telemeter: third } = fileTelemeter(server, dir, { requireConsent: true })
    third.giveConsent('events', 'views')
    third.removeConsent('sessions')
    third.view('third-life')
    third.event('third-life')
    third.beginSession()
    await third.flush()
    expect(third.hasConsent('sessions')).toBe(false)
    expect(paramsWith(server, deviceId, 'consent').map((p) => p.consent)).toEqual([
      { events: true, sessions: true },
      { views: true },
      { sessions: false },
    ])
    expect(server.user(deviceId)?.consent).toEqual({ events: true, sessions: false, views: true })
    expect(
      server
        .events({ deviceId })
        .filter((e) => e.segmentation.name === 'third-life' || e.key === 'third-life'),
    ).toHaveLength(2)
    expect(paramsWith(server, deviceId, 'begin_session')).toHaveLength(1)
    await third.shutdown()

    const { telemeter: fourth } = fileTelemeter(server, dir, { requireConsent: true })
    await fourth.flush()
    expect([...['events', 'views', 'sessions']].map((f) => fourth.hasConsent(f))).toEqual([true, true, false])
    expect(server.violations).toEqual([])
  })

  it('does nothing when consent is not required', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' })
    telemeter.giveConsent('events')
    telemeter.removeConsent('events')
    telemeter.event('allowed')
    expect(telemeter.hasConsent('events')).toBe(true)
    await telemeter.flush()
    expect(paramsWith(server, 'own', 'consent')).toEqual([])
    expect(server.events().map((e) => e.key)).toEqual(['allowed'])
    expect(server.violations).toEqual([])
  })
})
