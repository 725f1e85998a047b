import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { captureLogger, sleep, tempDir, testServer } from '../helpers.js'
import {
  customEventsOf,
  DEVICE_ID,
  eventsOf,
  itemsWith,
  OS_NAME,
  runOfficial,
  runOurs,
  runTelemeterChild,
  SERVER_OPTIONS,
  sideBySide,
  storedOf,
  tracesOf,
  userOf,
  violationCodes,
} from './harness.js'

/**
 * One test per row of the "Countly methods" table of
 * docs/migrating-from-countly-sdk-nodejs.md: the same scenario through
 * countly-sdk-nodejs and Telemeter, then what each server stored, compared.
 */

const boom = () => {
  const error = new TypeError('parity boom')
  error.stack =
    'TypeError: parity boom\n    at handler (/srv/app/jobs.js:10:5)\n    at run (/srv/app/queue.js:20:7)'
  return error
}

/** Features with consent given, from a stored consent map. */
const given = (consent: unknown) =>
  Object.entries((consent ?? {}) as Record<string, boolean>)
    .filter(([, value]) => value)
    .map(([feature]) => feature)
    .sort()

describe('sessions', () => {
  it('begin_session(noHeartBeat) → beginSession()', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('begin_session'),
      () => runOurs((t) => t.beginSession()),
    )
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    expect(userOf(ours.server)).toMatchObject({
      sc: 1,
      hos: true,
      metrics: { _os: OS_NAME, _app_version: '1.2.3' },
    })
    expect([...violationCodes(official.server), ...violationCodes(ours.server)]).toEqual([])
  })

  it('session_duration(sec) → extendSession() (measured) or request({ session_duration })', async () => {
    const [official, ours, measured] = await Promise.all([
      runOfficial('session_duration'),
      runOurs((t) => {
        t.beginSession()
        t.request({ session_duration: 30 })
      }),
      // extendSession() reports the time measured since the last update; it takes no seconds.
      runOurs(async (t) => {
        t.beginSession()
        await sleep(1_100)
        t.extendSession()
      }),
    ])
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    expect(ours.server.user(DEVICE_ID)?.sd).toBe(30)
    expect(official.server.user(DEVICE_ID)?.sd).toBe(30)
    expect(
      itemsWith(measured.server, 'session_duration').map((params) => Number(params.session_duration)),
    ).toEqual([1])
    expect([...violationCodes(official.server), ...violationCodes(ours.server)]).toEqual([])
  })

  it('end_session(sec) → endSession()', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('end_session'),
      () =>
        runOurs(async (t) => {
          t.beginSession()
          await sleep(1_100)
          t.endSession()
        }),
    )
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    expect(userOf(ours.server)).toMatchObject({ sc: 1, hos: false })
    // Whole seconds measured by each SDK (the official one between second-rounded clock readings).
    const theirs = official.server.user(DEVICE_ID)?.tsd ?? -1
    const mine = ours.server.user(DEVICE_ID)?.tsd ?? -1
    expect(mine).toBe(1)
    expect(Math.abs(mine - theirs)).toBeLessThanOrEqual(1)
    expect([...violationCodes(official.server), ...violationCodes(ours.server)]).toEqual([])
  })

  it('stop_time()/start_time() → no equivalent: end and begin the session', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('stop_time/start_time'),
      () =>
        runOurs(async (t) => {
          t.beginSession()
          t.endSession()
          await sleep(1_100)
          t.beginSession()
          t.endSession()
        }),
    )
    // The official SDK leaves the paused time out of one session; Telemeter reports two sessions around the pause.
    expect(official.server.user(DEVICE_ID)).toMatchObject({ sc: 1, hos: false })
    expect(official.server.user(DEVICE_ID)?.tsd).toBeLessThanOrEqual(1)
    expect(ours.server.user(DEVICE_ID)).toMatchObject({ sc: 2, hos: false, tsd: 0 })
    expect([...violationCodes(official.server), ...violationCodes(ours.server)]).toEqual([])
  })
})

describe('events and views', () => {
  it('add_event(event) → event(key, options)', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('add_event'),
      () =>
        runOurs((t) => t.event('purchase', { count: 2, sum: 9.99, segmentation: { plan: 'pro', seats: 3 } })),
    )
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    expect(customEventsOf(ours.server)).toEqual([
      { key: 'purchase', count: 2, sum: 9.99, segmentation: { plan: 'pro', seats: 3 } },
    ])
    expect([...violationCodes(official.server), ...violationCodes(ours.server)]).toEqual([])
  })

  it('start_event(key)/end_event(event) → startEvent(key)/endEvent(key, options)', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('start_event/end_event'),
      () =>
        runOurs(async (t) => {
          t.startEvent('export')
          await sleep(1_100)
          t.endEvent('export', { segmentation: { format: 'csv' } })
        }),
    )
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    const [theirs] = official.server.events({ key: 'export' })
    const [mine] = ours.server.events({ key: 'export' })
    // Whole seconds in the official SDK, millisecond precision in Telemeter.
    expect(theirs?.dur).toBeGreaterThanOrEqual(1)
    expect(mine?.dur).toBeGreaterThanOrEqual(1)
    expect(Math.abs((mine?.dur ?? 0) - (theirs?.dur ?? 0))).toBeLessThan(1)
    expect([...violationCodes(official.server), ...violationCodes(ours.server)]).toEqual([])
  })

  it('track_view(name, segments) / track_pageview → view(name, segmentation)', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('track_view'),
      () =>
        runOurs((t) => {
          t.view('settings', { tab: 'users' })
          t.view('billing')
        }),
    )
    // Telemeter marks the first view of a session as its landing view (`start: 1`).
    const withoutStart = eventsOf(ours.server).map((event) => {
      const { start, ...segmentation } = event.segmentation as Record<string, unknown>
      return { ...event, segmentation }
    })
    expect(withoutStart).toEqual(eventsOf(official.server))
    expect(eventsOf(ours.server)[0]?.segmentation).toMatchObject({ name: 'settings', start: 1 })
    expect(userOf(ours.server)).toEqual(userOf(official.server))
    expect(userOf(ours.server)).toMatchObject({ vc: 2, lv: 'billing' })
    expect([...violationCodes(official.server), ...violationCodes(ours.server)]).toEqual([])
  })
})

describe('crashes', () => {
  it('log_error(err, segments) → captureError(err, { segmentation })', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('log_error'),
      () => runOurs((t) => t.captureError(boom(), { segmentation: { job: 'nightly' } })),
    )
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    expect(ours.server.crashes(DEVICE_ID)[0]).toMatchObject({
      name: 'TypeError: parity boom',
      nonfatal: true,
      custom: { job: 'nightly' },
    })
    expect([...violationCodes(official.server), ...violationCodes(ours.server)]).toEqual([])
  })

  it('add_log(record) → addBreadcrumb(message)', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('add_log'),
      () =>
        runOurs((t) => {
          t.addBreadcrumb('opened settings')
          t.addBreadcrumb('clicked save')
          t.captureError(boom())
        }),
    )
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    expect(ours.server.crashes(DEVICE_ID)[0]?.logs).toBe('opened settings\nclicked save')
    expect([...violationCodes(official.server), ...violationCodes(ours.server)]).toEqual([])
  })

  it('track_errors(segments) → captureUncaught: true', async () => {
    const [officialServer, officialDir, oursServer, oursDir] = await Promise.all([
      testServer(SERVER_OPTIONS),
      tempDir(),
      testServer(SERVER_OPTIONS),
      tempDir(),
    ])
    // Each side: a process that dies of an uncaught error, then a restart on the same storage that delivers.
    const [crashed, dying] = await Promise.all([
      (async () => {
        const run = await runOfficial('track_errors', {
          server: officialServer,
          storageDir: officialDir,
          arg: { phase: 'crash' },
          expectCrash: true,
        })
        await runOfficial('track_errors', {
          server: officialServer,
          storageDir: officialDir,
          arg: { phase: 'drain' },
        })
        return run
      })(),
      (async () => {
        const run = await runTelemeterChild(oursServer.url, oursDir, 'crash')
        await runTelemeterChild(oursServer.url, oursDir, 'drain')
        return run
      })(),
    ])
    // Both SDKs leave the process's fate alone: it dies with the uncaught error.
    expect(crashed.exitCode).toBe(1)
    expect(crashed.stderr).toContain('parity boom')
    expect(dying.exitCode).toBe(1)
    expect(dying.stderr).toContain('parity boom')

    const theirCrash = storedOf(officialServer).crashes
    const ourCrash = storedOf(oursServer).crashes
    expect(ourCrash).toHaveLength(1)
    expect(ourCrash[0]).toMatchObject({
      name: 'TypeError: parity boom',
      nonfatal: false,
      os: OS_NAME,
      app_version: '1.2.3',
      custom: { origin: 'uncaughtException' },
    })
    // The official SDK sometimes loses it: an asynchronous write of its queue file, still in flight,
    // truncates the file its synchronous rescue write just filled (documented in the guide).
    expect(theirCrash.length).toBeLessThanOrEqual(1)
    if (theirCrash[0]) {
      // Same fatal crash; the official SDK attaches the track_errors() segments, Telemeter the origin.
      const strip = ({ custom, ...rest }: (typeof ourCrash)[number]) => rest
      expect(strip(ourCrash[0]!)).toEqual(strip(theirCrash[0]))
      expect(theirCrash[0]).toMatchObject({ nonfatal: false, custom: { service: 'api' } })
    }
    expect([...violationCodes(officialServer), ...violationCodes(oursServer)]).toEqual([])
  })
})

describe('users and device ids', () => {
  const ada = {
    name: 'Ada Lovelace',
    username: 'ada',
    email: 'ada@example.com',
    organization: 'Analytical Engines',
    phone: '+441234567',
    picture: 'https://example.com/ada.png',
    gender: 'F',
    byear: 1990,
    custom: { plan: 'pro' },
  } as const

  it('user_details(user) → setUserDetails(details)', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('user_details'),
      () => runOurs((t) => t.setUserDetails(ada)),
    )
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    expect(userOf(ours.server)).toMatchObject({ ...ada, custom: { plan: 'pro' } })
    expect([...violationCodes(official.server), ...violationCodes(ours.server)]).toEqual([])
  })

  it('change_id(newId, true) → changeDeviceId(newId, { merge: true })', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('change_id', { arg: { merge: true } }),
      () =>
        runOurs(async (t) => {
          t.beginSession()
          t.event('before-change')
          await t.flush()
          t.changeDeviceId('user-42', { merge: true })
          t.event('after-change')
        }),
    )
    expect(official.result.deviceId).toBe('user-42')
    expect(storedOf(ours.server, 'user-42')).toEqual(storedOf(official.server, 'user-42'))
    expect(userOf(ours.server, 'user-42')).toMatchObject({ merged_ids: [DEVICE_ID], sc: 1, hos: true })
    // Events stay with the id they were recorded under; the profile is merged.
    expect(customEventsOf(ours.server, DEVICE_ID).map((event) => event.key)).toEqual(['before-change'])
    expect(customEventsOf(ours.server, 'user-42').map((event) => event.key)).toEqual(['after-change'])
    expect([...violationCodes(official.server), ...violationCodes(ours.server)]).toEqual([])
  })

  it('change_id(newId, false) → changeDeviceId(newId, { merge: false })', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('change_id', { arg: { merge: false } }),
      () =>
        runOurs(async (t) => {
          t.beginSession()
          t.event('before-change')
          await sleep(50)
          t.changeDeviceId('user-42', { merge: false })
          t.event('after-change')
        }),
    )
    for (const id of [DEVICE_ID, 'user-42'])
      expect(storedOf(ours.server, id)).toEqual(storedOf(official.server, id))
    expect(userOf(ours.server, DEVICE_ID)).toMatchObject({ sc: 1, hos: false })
    expect(userOf(ours.server, 'user-42')).toMatchObject({ sc: 1, hos: true, merged_ids: [] })
    expect([...violationCodes(official.server), ...violationCodes(ours.server)]).toEqual([])
  })

  it('set_id(newId) → changeDeviceId(newId, { merge: <the id was generated> })', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('set_id'),
      () =>
        runOurs(
          async (t) => {
            t.event('anonymous')
            await t.flush()
            // set_id merges only an SDK-generated id; here the id was generated (no deviceId in config).
            t.changeDeviceId('user-42', { merge: true })
            t.event('identified')
          },
          { config: { deviceId: undefined } },
        ),
    )
    const normalise = (stored: ReturnType<typeof storedOf>) => ({
      ...stored,
      user: { ...stored.user, merged_ids: ((stored.user?.merged_ids ?? []) as string[]).length },
    })
    expect(normalise(storedOf(ours.server, 'user-42'))).toEqual(
      normalise(storedOf(official.server, 'user-42')),
    )
    expect(official.result).toMatchObject({ deviceId: 'user-42', type: 0 })
    expect(customEventsOf(ours.server, 'user-42').map((event) => event.key)).toEqual(['identified'])
    expect([...violationCodes(official.server), ...violationCodes(ours.server)]).toEqual([])
  })

  it('get_device_id() / get_device_id_type() → telemeter.deviceId (the type is sent as `t`)', async () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
    let ourId = ''
    const [official, ours, configured, mine] = await Promise.all([
      runOfficial('get_device_id/get_device_id_type'),
      runOurs(
        async (t) => {
          t.event('hello')
          await t.flush()
          ourId = t.deviceId
        },
        { config: { deviceId: undefined } },
      ),
      runOfficial('get_device_id/get_device_id_type', { arg: { deviceId: 'chosen' } }),
      runOurs((t) => t.event('hello'), { config: { deviceId: 'chosen' } }),
    ])
    expect(official.result.deviceId).toMatch(uuid)
    expect(official.result.type).toBe(1)
    expect(ourId).toMatch(uuid)
    expect(ours.server.user(ourId)?.t).toBe(1)
    // A configured id is developer supplied (type 0) in both.
    expect(configured.result).toEqual({ deviceId: 'chosen', type: 0 })
    expect(mine.telemeter.deviceId).toBe('chosen')
    expect(mine.server.user('chosen')?.t).toBe(0)
    expect([...violationCodes(official.server), ...violationCodes(ours.server)]).toEqual([])
  })
})

describe('consent', () => {
  it('add_consent(features)/remove_consent(features) → giveConsent(...features)/removeConsent(...features)', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('add_consent/remove_consent'),
      () =>
        runOurs(
          async (t) => {
            t.giveConsent('events', 'views')
            t.event('allowed')
            await t.flush()
            t.removeConsent('events')
            t.event('refused')
          },
          { config: { requireConsent: true } },
        ),
    )
    expect(customEventsOf(ours.server)).toEqual(customEventsOf(official.server))
    expect(customEventsOf(ours.server).map((event) => event.key)).toEqual(['allowed'])
    expect(official.result).toEqual({ events: false, views: true })
    expect([ours.telemeter.hasConsent('events'), ours.telemeter.hasConsent('views')]).toEqual([false, true])
    // The official SDK sends all 11 features when consent is given, and never tells the server
    // about a removal (remove_consent sets the flag, then skips the update it tests for).
    expect(official.server.user(DEVICE_ID)?.consent).toMatchObject({
      events: true,
      views: true,
      sessions: false,
    })
    expect(Object.keys(official.server.user(DEVICE_ID)?.consent ?? {})).toHaveLength(11)
    // Telemeter sends the features that changed, removals included.
    expect(ours.server.user(DEVICE_ID)?.consent).toEqual({ events: false, views: true })
    // Without location consent the official SDK adds an empty `location` to every request; the server ignores it.
    expect(new Set(violationCodes(official.server))).toEqual(new Set(['invalid-location']))
    expect(violationCodes(ours.server)).toEqual([])
  })

  it('check_consent(feature) → hasConsent(feature)', async () => {
    let before: boolean | undefined
    let after: boolean | undefined
    const [official] = await sideBySide(
      () => runOfficial('check_consent'),
      () =>
        runOurs(
          (t) => {
            before = t.hasConsent('events')
            t.giveConsent('events')
            after = t.hasConsent('events')
          },
          { config: { requireConsent: true } },
        ),
    )
    expect({ before, after }).toEqual(official.result)
    expect(official.result).toEqual({ before: false, after: true })
  })

  it('group_features(groups) / check_any_consent() → groupFeatures(groups) / status().consent', async () => {
    let activity: boolean | undefined
    let any: boolean | undefined
    const [official, ours] = await sideBySide(
      () => runOfficial('group_features'),
      () =>
        runOurs(
          (t) => {
            t.groupFeatures({ activity: ['sessions', 'events'] })
            t.giveConsent('activity')
            t.event('grouped')
            activity = t.hasConsent('activity')
            any = t.status().consent.length > 0
          },
          { config: { requireConsent: true } },
        ),
    )
    expect({ activity, any }).toEqual(official.result)
    expect(customEventsOf(ours.server)).toEqual(customEventsOf(official.server))
    expect(given(userOf(ours.server)?.consent)).toEqual(given(userOf(official.server)?.consent))
    expect(given(userOf(ours.server)?.consent)).toEqual(['events', 'sessions'])
    expect(new Set(violationCodes(official.server))).toEqual(new Set(['invalid-location']))
    expect(violationCodes(ours.server)).toEqual([])
  })
})

describe('remote config', () => {
  it('fetch_remote_config(keys, omit_keys, callback)/get_remote_config(key) → fetchRemoteConfig(options)/getRemoteConfig(key)', async () => {
    const remoteConfig = { color: 'blue', limit: 5, flags: { beta: true } }
    let ourResult: Record<string, unknown> = {}
    const [official, ours] = await sideBySide(
      () => runOfficial('fetch_remote_config/get_remote_config', { serverOptions: { remoteConfig } }),
      () =>
        runOurs(
          async (t) => {
            const all = await t.fetchRemoteConfig()
            const keyed = await t.fetchRemoteConfig({ keys: ['color'] })
            const omitted = await t.fetchRemoteConfig({ omitKeys: ['color'] })
            ourResult = { all, keyed, omitted, color: t.getRemoteConfig('color'), cache: t.getRemoteConfig() }
          },
          { serverOptions: { remoteConfig } },
        ),
    )
    expect(ourResult).toEqual(official.result)
    expect(ourResult.all).toEqual(remoteConfig)
    // A keyed or omitting fetch updates the cache, and both resolve with the whole cache.
    expect(ourResult.keyed).toEqual(remoteConfig)
    expect(ourResult.omitted).toEqual(remoteConfig)
    const rcMethods = (server: typeof ours.server) =>
      server.requests
        .filter((request) => request.endpoint === '/o/sdk')
        .map((request) => request.query.method)
    // Same data, newer method name: `rc` instead of the legacy `fetch_remote_config`.
    expect(rcMethods(official.server)).toEqual([
      'fetch_remote_config',
      'fetch_remote_config',
      'fetch_remote_config',
    ])
    expect(rcMethods(ours.server)).toEqual(['rc', 'rc', 'rc'])
    expect([...violationCodes(official.server), ...violationCodes(ours.server)]).toEqual([])
  })
})

describe('performance traces', () => {
  it('report_trace(trace) → reportTrace({ type, name, stz, etz, metrics })', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('report_trace'),
      () =>
        runOurs((t) => {
          const now = Date.now()
          t.reportTrace({
            type: 'device',
            name: 'import_csv',
            stz: now - 1500,
            etz: now,
            metrics: { duration: 1500, rows: 1200 },
          })
          t.reportTrace({
            type: 'network',
            name: '/api/users',
            stz: now - 40,
            etz: now,
            metrics: {
              response_time: 40,
              response_code: 200,
              request_payload_size: 10,
              response_payload_size: 200,
            },
          })
        }),
    )
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    expect(tracesOf(ours.server)).toHaveLength(2)
    expect([...violationCodes(official.server), ...violationCodes(ours.server)]).toEqual([])
  })

  it('report_app_start() → reportAppStart()', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('report_app_start'),
      () => runOurs((t) => t.reportAppStart()),
    )
    // The official SDK's app-start trace fails its own validation (`app_metrics` instead of `apm_metrics`): nothing is sent.
    expect(official.server.items).toEqual([])
    expect(tracesOf(official.server)).toEqual([])
    const [trace] = tracesOf(ours.server)
    expect(trace).toMatchObject({ type: 'device', name: 'app_start' })
    expect(trace?.metrics.duration).toBe(trace?.durationMs)
    expect(violationCodes(ours.server)).toEqual([])
  })
})

describe('attribution, feedback, raw requests', () => {
  it('report_conversion(campaign_id, campaign_user_id) → reportConversion({ campaignId, campaignUser })', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('report_conversion'),
      () =>
        runOurs((t) => {
          t.reportConversion({ campaignId: 'spring-sale', campaignUser: 'cu-7' })
          t.reportConversion({ campaignId: 'summer-sale' })
        }),
    )
    // The official SDK sends every call (the last campaign wins); Telemeter the first per device only.
    expect(userOf(official.server)).toMatchObject({ campaign_id: 'summer-sale', campaign_user: 'cu-7' })
    expect(userOf(ours.server)).toMatchObject({ campaign_id: 'spring-sale', campaign_user: 'cu-7' })
    expect(itemsWith(official.server, 'campaign_id')).toHaveLength(2)
    expect(itemsWith(ours.server, 'campaign_id')).toHaveLength(1)
    const { campaign_id: _a, ...theirs } = userOf(official.server) ?? {}
    const { campaign_id: _b, ...mine } = userOf(ours.server) ?? {}
    expect(mine).toEqual(theirs)
    expect([...violationCodes(official.server), ...violationCodes(ours.server)]).toEqual([])
  })

  it('report_feedback(feedback) → recordRating({ rating, widgetId, comment, email, contactMe })', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('report_feedback'),
      () =>
        runOurs((t) =>
          t.recordRating({
            widgetId: 'w1',
            rating: 4,
            comment: 'nice',
            email: 'ada@example.com',
            contactMe: true,
          }),
        ),
    )
    // Telemeter fills `platform` (the official SDK leaves it empty, stored as "undefined").
    const withoutPlatform = (server: typeof ours.server) =>
      eventsOf(server).map((event) => {
        const { platform, platform_version_rate, ...segmentation } = event.segmentation as Record<
          string,
          unknown
        >
        return { ...event, segmentation }
      })
    expect(withoutPlatform(ours.server)).toEqual(withoutPlatform(official.server))
    expect(eventsOf(ours.server)[0]?.segmentation).toMatchObject({
      platform: OS_NAME,
      platform_version_rate: `${OS_NAME}**1.2.3**4**w1`,
    })
    expect(eventsOf(official.server)[0]?.segmentation).toMatchObject({
      platform_version_rate: 'undefined**1.2.3**4**w1',
    })
    expect([...violationCodes(official.server), ...violationCodes(ours.server)]).toEqual([])
  })

  it('request(request) → request(params)', async () => {
    const events = JSON.stringify(
      Array.from({ length: 3 }, (_, index) => ({
        key: `imported_${index}`,
        count: index + 1,
        segmentation: { note: 'x'.repeat(80) },
      })),
    )
    expect(events.length).toBeGreaterThan(256)
    const [official, ours] = await sideBySide(
      () => runOfficial('request', { arg: { params: { events, begin_session: 1 } } }),
      () => runOurs((t) => t.request({ events, begin_session: 1 })),
    )
    // Both sessions begin; only Telemeter's events arrive: the official SDK cut the JSON at 256 characters.
    expect(userOf(ours.server)?.sc).toBe(1)
    expect(userOf(official.server)?.sc).toBe(1)
    expect(customEventsOf(ours.server).map((event) => [event.key, event.count])).toEqual([
      ['imported_0', 1],
      ['imported_1', 2],
      ['imported_2', 3],
    ])
    expect(customEventsOf(official.server)).toEqual([])
    const [sent] = itemsWith(official.server, 'begin_session')
    expect(String(official.server.requests[0]?.rawQuery ?? official.server.requests[0]?.body)).toContain(
      'events=',
    )
    expect(sent).toBeDefined()
    // It also sends no timestamp, time fields or SDK name of its own.
    expect(violationCodes(official.server).sort()).toEqual(['malformed-json', 'missing-timestamp'])
    expect(violationCodes(ours.server)).toEqual([])
  })
})

describe('logging, lifecycle, exports', () => {
  it('setLoggingEnabled(enabled) → debug (a logger object can be switched at run time)', async () => {
    const lines: string[] = []
    let enabled = false
    const switchable = {
      debug: (message: string) => enabled && lines.push(message),
      info: (message: string) => enabled && lines.push(message),
      warn: (message: string) => lines.push(message),
      error: (message: string) => lines.push(message),
    }
    const [official, ours] = await sideBySide(
      () => runOfficial('setLoggingEnabled'),
      () =>
        runOurs(
          (t) => {
            enabled = true
            t.event('logged')
            t.endSession()
          },
          { config: { debug: switchable } },
        ),
    )
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    expect(official.stdout).toContain('[INFO] ')
    expect(lines.length).toBeGreaterThan(0)
    expect(lines.every((line) => line.startsWith('[telemeter]'))).toBe(true)
  })

  it('halt() → shutdown() and createTelemeter() again', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('halt'),
      () =>
        runOurs(async (t, server) => {
          t.event('before-halt')
          await t.shutdown()
          const logger = captureLogger()
          const again = (await import('../../src/index.js')).createTelemeter({
            url: server.url,
            appKey: 'TEST_APP_KEY',
            deviceId: 'after-halt',
            storage: 'memory',
            sessions: 'manual',
            serverConfig: false,
            debug: logger,
          })
          again.event('after-halt')
          await again.shutdown()
        }),
    )
    // Re-initialised, the official SDK keeps the id it stored (device_id only applies to a fresh storage);
    // a new Telemeter uses the configured deviceId.
    expect(customEventsOf(official.server, DEVICE_ID).map((event) => event.key)).toEqual([
      'before-halt',
      'after-halt',
    ])
    expect(customEventsOf(ours.server, DEVICE_ID).map((event) => event.key)).toEqual(['before-halt'])
    expect(customEventsOf(ours.server, 'after-halt').map((event) => event.key)).toEqual(['after-halt'])
  })

  it('Countly.features / StorageTypes / DeviceIdType → Feature names, the storage option, the `t` parameter', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('exports'),
      () => runOurs(() => {}),
    )
    const features = [...(official.result.features as string[])].sort()
    expect(Object.keys(ours.telemeter.status().tracking).sort()).toEqual(features)
    expect(official.result.storageTypes).toEqual({ FILE: 'file', MEMORY: 'memory' })
    expect(official.result.deviceIdTypes).toEqual({ DEVELOPER_SUPPLIED: 0, SDK_GENERATED: 1 })
    expect(official.result.bulk).toBe('function')
    expect(ours.telemeter.status().storage.kind).toBe('memory')
  })
})

describe('switching over', () => {
  it('bad input: the official SDK throws into the caller, Telemeter warns and carries on', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('bad-input'),
      () =>
        runOurs((t) => {
          t.event(undefined as never)
          t.setUserDetails(null as never)
          t.giveConsent(undefined as never)
          t.reportTrace(undefined as never)
          t.event('after-bad-input')
        }),
    )
    expect(official.result.thrown).toEqual([
      'add_event: TypeError',
      'user_details: TypeError',
      'add_consent: TypeError',
      'report_trace: TypeError',
    ])
    expect(customEventsOf(ours.server)).toEqual(customEventsOf(official.server))
    expect(ours.logger.warnings().length).toBeGreaterThanOrEqual(3)
    expect([...violationCodes(official.server), ...violationCodes(ours.server)]).toEqual([])
  })

  it("keeps the device: the official SDK's stored id (__cly_id.json) becomes deviceId", async () => {
    const server = await testServer(SERVER_OPTIONS)
    const before = await runOfficial('init:device_id', { server, arg: { deviceId: null } })
    const stored = JSON.parse(await readFile(join(before.storageDir, '__cly_id.json'), 'utf8')) as {
      cly_id: string
    }
    expect(stored.cly_id).toBe(before.result.deviceId)
    await runOurs((t) => t.event('after-switch'), { server, config: { deviceId: stored.cly_id } })
    expect(customEventsOf(server, stored.cly_id).map((event) => event.key)).toEqual(['hello', 'after-switch'])
    expect(server.users()).toHaveLength(1)
    expect(violationCodes(server)).toEqual([])
  })
})
