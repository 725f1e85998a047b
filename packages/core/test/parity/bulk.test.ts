import { readdir } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import type { UserData } from '../../src/index.js'
import { tempDir } from '../helpers.js'
import {
  crashesOf,
  customEventsOf,
  eventsOf,
  itemsWith,
  runOfficial,
  runOurs,
  sideBySide,
  storedOf,
  tracesOf,
  userOf,
  violationCodes,
} from './harness.js'

/**
 * One test per `CountlyBulk` and `CountlyBulkUser` row of
 * docs/migrating-from-countly-sdk-nodejs.md. A bulk server becomes one
 * Telemeter; each bulk user becomes `telemeter.forDevice(id)`.
 */

const clean = (...servers: { violations: unknown[] }[]) => servers.flatMap((server) => server.violations)
const USER = 'bulk-user'

describe('CountlyBulk', () => {
  it('new CountlyBulk(conf) → createTelemeter(config) (one instance, forDevice per user)', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('bulk:new'),
      () => runOurs((t) => t.forDevice('bulk-a').event('hello')),
    )
    expect(storedOf(ours.server, 'bulk-a')).toEqual(storedOf(official.server, 'bulk-a'))
    expect(customEventsOf(ours.server, 'bulk-a')).toEqual([{ key: 'hello', count: 1, segmentation: {} }])
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('bulk_size → bulkSize', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('bulk:bulk_size'),
      () =>
        runOurs(
          (t) => {
            for (const id of ['d1', 'd2', 'd3']) t.forDevice(id).request({ begin_session: 1 })
          },
          { config: { bulkSize: 2 } },
        ),
    )
    for (const id of ['d1', 'd2', 'd3'])
      expect(storedOf(ours.server, id)).toEqual(storedOf(official.server, id))
    const sizes = (server: typeof ours.server) =>
      server.requests.map((request) =>
        request.endpoint === '/i/bulk'
          ? server.items.filter((item) => item.requestIndex === server.requests.indexOf(request)).length
          : 1,
      )
    expect(sizes(official.server)).toEqual([2, 1])
    expect(sizes(ours.server)).toEqual([2, 1])
    // A lone request goes to /i; the official bulk SDK wraps even one request in /i/bulk.
    expect(official.server.requests.map((request) => request.endpoint)).toEqual(['/i/bulk', '/i/bulk'])
    expect(ours.server.requests.map((request) => request.endpoint)).toEqual(['/i/bulk', '/i'])
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('interval (5 s by default for bulk) → flushIntervalMs', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('bulk:storage_type', { arg: { extra: { interval: 50 } } }),
      () => runOurs((t) => t.forDevice('bulk-a').event('where-stored'), { config: { flushIntervalMs: 50 } }),
    )
    expect(storedOf(ours.server, 'bulk-a')).toEqual(storedOf(official.server, 'bulk-a'))
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('salt → salt (single /i requests with checksum256, never /i/bulk)', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('bulk:salt', { serverOptions: { salt: 'pepper' } }),
      () =>
        runOurs((t) => t.forDevice('bulk-a').event('salted'), {
          config: { salt: 'pepper' },
          serverOptions: { salt: 'pepper' },
        }),
    )
    // A real server cannot process checksummed bulk requests: the official bulk SDK's data is lost.
    expect(violationCodes(official.server)).toContain('bulk-with-salt')
    expect(customEventsOf(official.server, 'bulk-a')).toEqual([])
    expect(customEventsOf(ours.server, 'bulk-a')).toEqual([{ key: 'salted', count: 1, segmentation: {} }])
    expect(ours.server.requests.map((request) => request.endpoint)).toEqual(['/i'])
    expect(violationCodes(ours.server)).toEqual([])
  })

  it('storage_type, storage_path, persist_queue (memory by default for bulk) → storage, storagePath (file by default)', async () => {
    const [officialDir, persistedDir, ourDir] = await Promise.all([tempDir(), tempDir(), tempDir()])
    const [official, ours, persisted] = await Promise.all([
      runOfficial('bulk:storage_type', { arg: { extra: { storage_path: `${officialDir}/` } } }),
      runOurs((t) => t.forDevice('bulk-a').event('where-stored'), {
        config: { storage: 'file', storagePath: ourDir },
      }),
      runOfficial('bulk:storage_type', {
        arg: { extra: { storage_path: `${persistedDir}/`, persist_queue: true } },
      }),
    ])
    expect(storedOf(ours.server, 'bulk-a')).toEqual(storedOf(official.server, 'bulk-a'))
    // The bulk SDK keeps its queue in memory unless storage_type/persist_queue say otherwise; Telemeter persists by default.
    expect(await readdir(officialDir)).toEqual([])
    expect((await readdir(ourDir)).length).toBeGreaterThan(0)
    expect(ours.telemeter.status().storage).toEqual({ kind: 'file', durable: true })
    expect((await readdir(persistedDir)).sort()).toEqual(
      expect.arrayContaining(['__cly_bulk_event.json', '__cly_req_queue.json']),
    )
    expect(clean(official.server, ours.server, persisted.server)).toEqual([])
  })

  it('other options (debug, fail_timeout, force_post, http_options, max_events, max_*) → as in Countly.init', async () => {
    const extra = { force_post: true, max_events: 2, max_key_length: 4 }
    const [official, ours] = await sideBySide(
      () => runOfficial('bulk:add_event', { arg: { extra } }),
      () =>
        runOurs(
          (t) => {
            t.forDevice('bulk-a').event('purchase', { sum: 5, segmentation: { plan: 'pro' } })
            t.forDevice('bulk-b').event('purchase', { count: 2 })
          },
          { config: { forcePost: true, maxEventsPerRequest: 2, limits: { keyLength: 4 } } },
        ),
    )
    for (const server of [official.server, ours.server])
      expect(server.requests.every((request) => request.method === 'POST')).toBe(true)
    const keyless = (server: typeof ours.server, id: string) => ({
      ...storedOf(server, id),
      events: eventsOf(server, id).map(({ key, ...event }) => event),
    })
    for (const id of ['bulk-a', 'bulk-b'])
      expect(keyless(ours.server, id)).toEqual(keyless(official.server, id))
    // CountlyBulk reads its max_* limits from the wrong object and never applies them; Telemeter does.
    expect(customEventsOf(official.server, 'bulk-a').map((event) => event.key)).toEqual(['purchase'])
    expect(customEventsOf(ours.server, 'bulk-a').map((event) => event.key)).toEqual(['purc'])
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('add_request(query) → forDevice(id).request(params)', async () => {
    const events = JSON.stringify(
      Array.from({ length: 3 }, (_, index) => ({
        key: `imported_${index}`,
        count: index + 1,
        segmentation: { note: 'x'.repeat(80) },
      })),
    )
    const params = {
      begin_session: 1,
      events,
      metrics: JSON.stringify({ _os: 'Linux', _app_version: '1.2.3' }),
    }
    const [official, ours] = await sideBySide(
      () => runOfficial('bulk:add_request', { arg: { params } }),
      () => runOurs((t) => t.forDevice('bulk-a').request(params)),
    )
    expect(storedOf(ours.server, 'bulk-a')).toEqual(storedOf(official.server, 'bulk-a'))
    expect(customEventsOf(ours.server, 'bulk-a')).toHaveLength(3)
    expect(userOf(ours.server, 'bulk-a')).toMatchObject({
      sc: 1,
      metrics: { _os: 'Linux', _app_version: '1.2.3' },
    })
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('add_bulk_request(requests) → request(params) per request (historical timestamps kept)', async () => {
    const timestamp = Date.now() - 5 * 3_600_000
    const [official, ours] = await sideBySide(
      () => runOfficial('bulk:add_bulk_request', { arg: { timestamp } }),
      () =>
        runOurs((t) => {
          t.forDevice('bulk-a').request({ begin_session: 1, timestamp })
          t.forDevice('bulk-b').request({ events: [{ key: 'imported', count: 3 }], timestamp })
        }),
    )
    for (const id of ['bulk-a', 'bulk-b'])
      expect(storedOf(ours.server, id)).toEqual(storedOf(official.server, id))
    for (const server of [official.server, ours.server]) {
      const [imported] = server.events({ key: 'imported' })
      expect(imported?.timestamp).toBe(timestamp)
      expect(imported?.hour).toBe(new Date(timestamp).getHours())
      expect(server.user('bulk-a')?.lbst).toBe(Math.floor(timestamp / 1000))
    }
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('add_event(device_id, event) → forDevice(id).event(key, options)', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('bulk:add_event'),
      () =>
        runOurs((t) => {
          t.forDevice('bulk-a').event('purchase', { sum: 5, segmentation: { plan: 'pro' } })
          t.forDevice('bulk-b').event('purchase', { count: 2 })
        }),
    )
    for (const id of ['bulk-a', 'bulk-b'])
      expect(storedOf(ours.server, id)).toEqual(storedOf(official.server, id))
    expect(customEventsOf(ours.server, 'bulk-a')).toEqual([
      { key: 'purchase', count: 1, sum: 5, segmentation: { plan: 'pro' } },
    ])
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('start(callback) / stop() → automatic; flush() / shutdown()', async () => {
    let before = -1
    const [official, ours] = await sideBySide(
      () => runOfficial('bulk:start/stop'),
      () =>
        runOurs(async (t) => {
          t.forDevice('bulk-a').event('queued-before-start')
          before = t.stats().pendingEvents + t.stats().queued
          await t.flush()
        }),
    )
    expect(customEventsOf(ours.server, 'bulk-a')).toEqual(customEventsOf(official.server, 'bulk-a'))
    expect(official.result).toEqual({ before: 1, after: 0 })
    expect(before).toBe(1)
    expect(ours.telemeter.stats()).toMatchObject({ queued: 0, pendingEvents: 0 })
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('queue_size() → stats().queued (+ stats().pendingEvents)', async () => {
    let before = { queued: -1, pendingEvents: -1 }
    const [official, ours] = await sideBySide(
      () => runOfficial('bulk:queue_size'),
      () =>
        runOurs((t) => {
          t.forDevice('bulk-a').request({ begin_session: 1 })
          t.forDevice('bulk-b').event('x')
          const stats = t.stats()
          before = { queued: stats.queued, pendingEvents: stats.pendingEvents }
        }),
    )
    // The official count is of future bulk calls; Telemeter counts requests and not-yet-batched events.
    expect(official.result).toEqual({ before: 2, after: 0 })
    expect(before).toEqual({ queued: 1, pendingEvents: 1 })
    expect(ours.telemeter.stats()).toMatchObject({ queued: 0, pendingEvents: 0 })
    for (const id of ['bulk-a', 'bulk-b'])
      expect(customEventsOf(ours.server, id)).toEqual(customEventsOf(official.server, id))
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('add_user({ device_id, country_code, city }) → forDevice(id) + setLocation({ countryCode, city })', async () => {
    const [official, ours] = await sideBySide(
      () =>
        runOfficial('user:scenario', {
          arg: { call: 'begin_session', userConf: { country_code: 'DE', city: 'Berlin' } },
        }),
      () =>
        runOurs((t) => {
          const user = t.forDevice(USER)
          user.setLocation({ countryCode: 'DE', city: 'Berlin' })
          user.beginSession()
        }),
    )
    expect(userOf(ours.server, USER)).toMatchObject({ country_code: 'DE', city: 'Berlin' })
    expect(userOf(official.server, USER)).toMatchObject({ country_code: 'DE', city: 'Berlin' })
    // With ip_address the official bulk user throws (it calls this.check_consent on an unbound function).
    const broken = await runOfficial('user:scenario', {
      arg: { call: 'begin_session', userConf: { ip_address: '203.0.113.7' } },
      expectCrash: true,
    })
    expect(broken.exitCode).not.toBe(0)
    expect(broken.stderr).toMatch(/check_consent/)
    expect(clean(official.server, ours.server)).toEqual([])
  })
})

describe('CountlyBulkUser', () => {
  it('begin_session(metrics, seconds, timestamp) → beginSession(), or request() for past sessions', async () => {
    const timestamp = Date.now() - 3_600_000
    const metrics = { _os: 'Linux', _app_version: '1.2.3' }
    const [official, ours] = await sideBySide(
      () => runOfficial('user:scenario', { arg: { call: 'begin_session', timestamp } }),
      () =>
        runOurs((t) => {
          const user = t.forDevice(USER)
          user.request({ begin_session: 1, metrics, timestamp })
          user.request({ session_duration: 90, timestamp: timestamp + 90_000 })
        }),
    )
    expect(storedOf(ours.server, USER)).toEqual(storedOf(official.server, USER))
    expect(ours.server.user(USER)).toMatchObject({ sc: 1, sd: 90, lbst: Math.floor(timestamp / 1000) })
    expect(official.server.user(USER)).toMatchObject({ sc: 1, sd: 90, lbst: Math.floor(timestamp / 1000) })
    // The official SDK splits the duration into 60 s beats (its beat timestamps add 60 ms, not 60 s, to a ms timestamp).
    expect(itemsWith(official.server, 'session_duration', USER).map((p) => p.session_duration)).toEqual([
      60, 30,
    ])
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('add_event(event) → event(key, options)', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('user:scenario', { arg: { call: 'add_event' } }),
      () =>
        runOurs((t) =>
          t.forDevice(USER).event('purchase', { count: 2, sum: 9.99, segmentation: { plan: 'pro' } }),
        ),
    )
    expect(storedOf(ours.server, USER)).toEqual(storedOf(official.server, USER))
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('user_details(user) → setUserDetails(details)', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('user:scenario', { arg: { call: 'user_details' } }),
      () =>
        runOurs((t) =>
          t
            .forDevice(USER)
            .setUserDetails({ name: 'Ada', email: 'ada@example.com', custom: { plan: 'pro' } }),
        ),
    )
    expect(storedOf(ours.server, USER)).toEqual(storedOf(official.server, USER))
    expect(userOf(ours.server, USER)).toMatchObject({
      name: 'Ada',
      email: 'ada@example.com',
      custom: { plan: 'pro' },
    })
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('report_conversion(campaign_id, campaign_user_id, timestamp) → reportConversion({ campaignId, campaignUser })', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('user:scenario', { arg: { call: 'report_conversion' } }),
      () =>
        runOurs((t) => {
          t.forDevice(USER).reportConversion({ campaignId: 'spring-sale', campaignUser: 'cu-7' })
          t.forDevice(USER).reportConversion({ campaignId: 'summer-sale' })
        }),
    )
    // Every call is sent by the official SDK; the first one per device by Telemeter.
    expect(userOf(official.server, USER)).toMatchObject({ campaign_id: 'summer-sale', campaign_user: 'cu-7' })
    expect(userOf(ours.server, USER)).toMatchObject({ campaign_id: 'spring-sale', campaign_user: 'cu-7' })
    expect(itemsWith(ours.server, 'campaign_id', USER)).toHaveLength(1)
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('report_view(view_name, timestamp, duration, segments) → view(name, segmentation), or request() with a past view', async () => {
    const timestamp = Date.now() - 60_000
    const [official, ours, live] = await Promise.all([
      runOfficial('user:scenario', { arg: { call: 'report_view', timestamp } }),
      runOurs((t) =>
        t.forDevice(USER).request({
          timestamp,
          events: [
            {
              key: '[CLY]_view',
              count: 1,
              dur: 12,
              segmentation: { name: 'settings', visit: 1, tab: 'users' },
            },
          ],
        }),
      ),
      // Live views measure their own duration.
      runOurs((t) => t.forDevice(USER).view('settings', { tab: 'users' })),
    ])
    expect(storedOf(ours.server, USER)).toEqual(storedOf(official.server, USER))
    expect(ours.server.events({ key: '[CLY]_view' })[0]).toMatchObject({
      dur: 12,
      segmentation: { name: 'settings', tab: 'users' },
    })
    expect(eventsOf(live.server, USER)[0]).toMatchObject({
      key: '[CLY]_view',
      segmentation: { name: 'settings', visit: 1, tab: 'users' },
    })
    expect(clean(official.server, ours.server, live.server)).toEqual([])
  })

  it('report_feedback(feedback, timestamp) → recordRating({ rating, widgetId, comment, email, contactMe })', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('user:scenario', { arg: { call: 'report_feedback' } }),
      () => runOurs((t) => t.forDevice(USER).recordRating({ widgetId: 'w1', rating: 4, comment: 'nice' })),
    )
    expect(storedOf(ours.server, USER)).toEqual(storedOf(official.server, USER))
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('report_trace(trace) → reportTrace({ type, name, stz, etz, metrics })', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('user:scenario', { arg: { call: 'report_trace' } }),
      () => {
        const now = Date.now()
        return runOurs((t) =>
          t.forDevice(USER).reportTrace({
            type: 'device',
            name: 'import_csv',
            stz: now - 1500,
            etz: now,
            metrics: { duration: 1500, rows: 1200 },
          }),
        )
      },
    )
    expect(storedOf(ours.server, USER)).toEqual(storedOf(official.server, USER))
    expect(tracesOf(ours.server, USER)).toHaveLength(1)
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('report_crash(crash, timestamp) → captureError(error), or request({ crash }) for a crash object', async () => {
    const timestamp = Date.now() - 60_000
    const stack =
      'TypeError: parity boom\n    at handler (/srv/app/jobs.js:10:5)\n    at run (/srv/app/queue.js:20:7)'
    const [official, ours] = await sideBySide(
      () => runOfficial('user:scenario', { arg: { call: 'report_crash', timestamp } }),
      () =>
        runOurs((t) =>
          t.forDevice(USER).request({
            timestamp,
            crash: {
              _os: 'Linux',
              _app_version: '1.2.3',
              _error: stack,
              _nonfatal: true,
              _custom: { job: 'nightly' },
            },
          }),
        ),
    )
    expect(storedOf(ours.server, USER)).toEqual(storedOf(official.server, USER))
    expect(crashesOf(ours.server, USER)[0]).toMatchObject({
      name: 'TypeError: parity boom',
      nonfatal: true,
      custom: { job: 'nightly' },
    })
    expect(clean(official.server, ours.server)).toEqual([])
  })

  const CUSTOM: [
    official: string,
    ours: keyof UserData,
    calls: [string, string, unknown?][],
    expected: Record<string, unknown>,
  ][] = [
    ['custom_set', 'set', [['custom_set', 'plan', 'pro']], { plan: 'pro' }],
    ['custom_set_once', 'setOnce', [['custom_set_once', 'first', 'a']], { first: 'a' }],
    ['custom_unset', 'unset', [['custom_unset', 'plan']], {}],
    ['custom_increment', 'increment', [['custom_increment', 'logins']], { logins: 1 }],
    ['custom_increment_by', 'incrementBy', [['custom_increment_by', 'credits', 5]], { credits: 5 }],
    ['custom_multiply', 'multiply', [['custom_multiply', 'score', 4]], { score: 0 }],
    ['custom_max', 'max', [['custom_max', 'best', 7]], { best: 7 }],
    ['custom_min', 'min', [['custom_min', 'fastest', 4]], { fastest: 4 }],
    ['custom_push', 'push', [['custom_push', 'tags', 'a']], { tags: ['a'] }],
    ['custom_push_unique', 'pushUnique', [['custom_push_unique', 'tags', 'a']], { tags: ['a'] }],
    ['custom_pull', 'pull', [['custom_pull', 'tags', 'a']], {}],
  ]

  it.each(CUSTOM)('%s(key, value) → userData.%s(key, value)', async (_op, method, calls, expected) => {
    const [official, ours] = await sideBySide(
      () => runOfficial('user:scenario', { arg: { call: 'custom', calls } }),
      () =>
        runOurs((t) => {
          const userData = t.forDevice(USER).userData
          for (const [, key, value] of calls)
            (userData[method] as (key: string, value?: unknown) => void)(key, value)
          userData.save()
        }),
    )
    expect(userOf(ours.server, USER)?.custom).toEqual(userOf(official.server, USER)?.custom)
    expect(userOf(ours.server, USER)?.custom).toEqual(expected)
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('custom_save() → userData.save() (every pending operation in one request)', async () => {
    const calls = [
      ['custom_set', 'plan', 'pro'],
      ['custom_increment_by', 'credits', 5],
      ['custom_push_unique', 'tags', 'beta'],
    ]
    const [official, ours] = await sideBySide(
      () => runOfficial('user:scenario', { arg: { call: 'custom', calls } }),
      () =>
        runOurs((t) => {
          const userData = t.forDevice(USER).userData
          userData.set('plan', 'pro')
          userData.incrementBy('credits', 5)
          userData.pushUnique('tags', 'beta')
          userData.save()
        }),
    )
    expect(userOf(ours.server, USER)?.custom).toEqual(userOf(official.server, USER)?.custom)
    expect(userOf(ours.server, USER)?.custom).toEqual({ plan: 'pro', credits: 5, tags: ['beta'] })
    expect(itemsWith(official.server, 'user_details', USER)).toHaveLength(1)
    expect(itemsWith(ours.server, 'user_details', USER)).toHaveLength(1)
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('group_features / add_consent / remove_consent / check_consent → groupFeatures / giveConsent / removeConsent / hasConsent', async () => {
    let consent = {}
    const [official, ours] = await sideBySide(
      () => runOfficial('user:scenario', { arg: { call: 'consent', userConf: { require_consent: true } } }),
      () =>
        runOurs(
          async (t) => {
            t.groupFeatures({ activity: ['sessions', 'events'] })
            const user = t.forDevice(USER)
            user.giveConsent('activity')
            user.event('with-consent')
            await t.flush()
            user.event('recorded-but-not-sent')
            user.removeConsent('events')
            user.event('without-consent')
            consent = { events: user.hasConsent('events'), sessions: user.hasConsent('sessions') }
          },
          { config: { requireConsent: true } },
        ),
    )
    expect(customEventsOf(ours.server, USER)).toEqual(customEventsOf(official.server, USER))
    // Removing consent also drops what was recorded for the feature but not sent yet.
    expect(customEventsOf(ours.server, USER).map((event) => event.key)).toEqual(['with-consent'])
    expect(consent).toEqual(official.result.consent)
    // The official bulk user never delivers its consent changes (it queues them in a shape its own bulk server refuses).
    expect(userOf(official.server, USER)?.consent).toEqual({})
    expect(userOf(ours.server, USER)?.consent).toEqual({ sessions: true, events: false })
    expect(clean(official.server, ours.server)).toEqual([])
  })
})
