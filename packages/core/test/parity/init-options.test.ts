import { readdir } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { createTelemeter, type StorageAdapter, type StoredRequest } from '../../src/index.js'
import { APP_KEY, captureLogger, sleep, tempDir, testServer } from '../helpers.js'
import {
  crashesOf,
  customEventsOf,
  DEVICE_ID,
  itemsWith,
  runOfficial,
  runOurs,
  SERVER_OPTIONS,
  sideBySide,
  storedOf,
  userOf,
  violationCodes,
} from './harness.js'

/**
 * One test per row of the "Countly.init options" table of
 * docs/migrating-from-countly-sdk-nodejs.md: the same scenario through
 * countly-sdk-nodejs and Telemeter, then what each server stored, compared.
 */

const clean = (...servers: { violations: unknown[] }[]) => servers.flatMap((server) => server.violations)

describe('Countly.init options', () => {
  it('app_key, url → appKey, url', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('init:app_key+url'),
      () => runOurs((t) => t.event('hello')),
    )
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    expect(ours.server.items[0]).toMatchObject({
      app_key: APP_KEY,
      device_id: DEVICE_ID,
      outcome: 'processed',
    })
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('device_id → deviceId', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('init:device_id', { arg: { deviceId: 'server-7' } }),
      () => runOurs((t) => t.event('hello'), { config: { deviceId: 'server-7' } }),
    )
    expect(official.result).toEqual({ deviceId: 'server-7', type: 0 })
    expect(ours.telemeter.deviceId).toBe('server-7')
    expect(storedOf(ours.server, 'server-7')).toEqual(storedOf(official.server, 'server-7'))
    expect(ours.server.user('server-7')?.t).toBe(official.server.user('server-7')?.t)
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('app_version → appVersion', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('init:app_version'),
      () => runOurs((t) => t.beginSession(), { config: { appVersion: '4.5.6' } }),
    )
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    expect(userOf(ours.server)?.metrics).toMatchObject({ _app_version: '4.5.6' })
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('debug → debug', async () => {
    const logger = captureLogger()
    const [official, ours] = await sideBySide(
      () => runOfficial('init:debug'),
      () =>
        runOurs(
          (t) => {
            t.event('hello')
            t.event('')
          },
          { config: { debug: logger } },
        ),
    )
    expect(customEventsOf(ours.server)).toEqual(customEventsOf(official.server))
    expect(official.stdout).toMatch(/\[(INFO|DEBUG)\] /)
    expect(logger.lines.length).toBeGreaterThan(0)
    expect(logger.lines.every((line) => line.message.startsWith('[telemeter]'))).toBe(true)
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('interval → flushIntervalMs', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('init:interval'),
      () =>
        runOurs(
          (t) => {
            t.event('a')
            t.event('b')
          },
          { config: { flushIntervalMs: 50 } },
        ),
    )
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    expect(customEventsOf(ours.server).map((event) => event.key)).toEqual(['a', 'b'])
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('queue_size → maxQueueSize', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('init:queue_size'),
      () =>
        runOurs(
          async (t, server) => {
            server.setFault({ type: 'down' })
            for (let n = 1; n <= 5; n++) t.setUserDetails({ custom: { n } })
            await t.flush()
            server.setFault(null)
          },
          { config: { maxQueueSize: 2 } },
        ),
    )
    const kept = (server: typeof ours.server) =>
      itemsWith(server, 'user_details').map(
        (params) => (params.user_details as { custom: { n: number } }).custom.n,
      )
    // Both drop the oldest; the official SDK keeps one more than queue_size.
    expect(kept(official.server)).toEqual([3, 4, 5])
    expect(kept(ours.server)).toEqual([4, 5])
    expect(ours.telemeter.stats().dropped).toBe(3)
    expect(userOf(ours.server)?.custom).toEqual(userOf(official.server)?.custom)
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('fail_timeout → retry: { baseDelayMs, maxDelayMs } (and permanent rejections are dropped)', async () => {
    const transient = { type: 'status', status: 503, times: 1 } as const
    // A permanent rejection: the official SDK retries it forever, Telemeter drops and counts it.
    const permanent = { type: 'reject', message: 'App does not exist', times: 2 } as const
    const [officialServer, rejectingServer] = await Promise.all([
      testServer(SERVER_OPTIONS),
      testServer(SERVER_OPTIONS),
    ])
    officialServer.setFault(transient)
    rejectingServer.setFault(permanent)
    const [official, ours, retriedForever, dropped] = await Promise.all([
      runOfficial('init:fail_timeout', { server: officialServer }),
      runOurs(
        (t, server) => {
          server.setFault(transient)
          t.event('retried')
        },
        { config: { retry: { baseDelayMs: 1_000, maxDelayMs: 60_000 } } },
      ),
      runOfficial('init:fail_timeout', { server: rejectingServer }),
      runOurs((t, server) => {
        server.setFault(permanent)
        t.event('retried')
      }),
    ])
    await ours.server.waitFor((server) => server.events({ key: 'retried' }).length === 1)
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    for (const server of [official.server, ours.server]) {
      expect(server.requests.map((request) => request.status)).toEqual([503, 200])
    }
    expect(ours.telemeter.stats()).toMatchObject({ retried: 1, sent: 1, dropped: 0 })
    expect(retriedForever.server.requests.map((request) => request.status)).toEqual([400, 400, 200])
    expect(customEventsOf(retriedForever.server).map((event) => event.key)).toEqual(['retried'])
    expect(dropped.server.requests.map((request) => request.status)).toEqual([400])
    expect(customEventsOf(dropped.server)).toEqual([])
    expect(dropped.telemeter.stats()).toMatchObject({ dropped: 1, droppedEvents: 1, sent: 0 })
    expect(clean(official.server, ours.server, retriedForever.server, dropped.server)).toEqual([])
  })

  it('session_update → sessionUpdateIntervalMs (sessions are automatic by default)', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('init:session_update'),
      () =>
        runOurs(() => sleep(2_300), {
          config: { sessions: 'auto', sessionUpdateIntervalMs: 1_000 },
        }),
    )
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    expect(userOf(ours.server)).toMatchObject({ sc: 1, hos: true })
    const extensions = (server: typeof ours.server) => itemsWith(server, 'session_duration')
    expect(extensions(official.server).length).toBeGreaterThanOrEqual(1)
    expect(extensions(ours.server).length).toBeGreaterThanOrEqual(1)
    const theirs = official.server.user(DEVICE_ID)?.sd ?? -1
    const mine = ours.server.user(DEVICE_ID)?.sd ?? -1
    expect(theirs).toBeGreaterThanOrEqual(2)
    expect(mine).toBeGreaterThanOrEqual(2)
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('max_events → maxEventsPerRequest', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('init:max_events'),
      () =>
        runOurs(
          (t) => {
            for (const key of ['e1', 'e2', 'e3']) t.event(key)
          },
          { config: { maxEventsPerRequest: 2 } },
        ),
    )
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    const batches = (server: typeof ours.server) =>
      itemsWith(server, 'events').map((params) => (params.events as unknown[]).length)
    expect(batches(official.server)).toEqual([2, 1])
    expect(batches(ours.server)).toEqual([2, 1])
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('force_post → forcePost', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('init:force_post'),
      () => runOurs((t) => t.event('posted'), { config: { forcePost: true } }),
    )
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    for (const server of [official.server, ours.server]) {
      expect(server.requests.map((request) => request.method)).toEqual(['POST'])
    }
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('salt → salt', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('init:salt', { serverOptions: { salt: 'pepper' } }),
      () =>
        runOurs(
          (t) => {
            t.event('salted')
            t.forDevice('other').event('salted')
          },
          { config: { salt: 'pepper' }, serverOptions: { salt: 'pepper' } },
        ),
    )
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    // With a salt every request is a single /i request carrying checksum256, never /i/bulk.
    expect(ours.server.requests.map((request) => request.endpoint)).toEqual(['/i', '/i'])
    expect(customEventsOf(ours.server, 'other')).toHaveLength(1)
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('clear_stored_device_id → not needed: a configured deviceId always wins over the stored one', async () => {
    const [officialServer, officialDir, oursServer, oursDir] = await Promise.all([
      testServer(SERVER_OPTIONS),
      tempDir(),
      testServer(SERVER_OPTIONS),
      tempDir(),
    ])
    // Three starts on one storage: as "first", then as "second", then as "second" clearing the stored id.
    const officialRuns = async () => {
      const ids: unknown[] = []
      for (const arg of [
        { deviceId: 'first', run: 1 },
        { deviceId: 'second', run: 2 },
        { deviceId: 'second', run: 3, clear: true },
      ]) {
        const run = await runOfficial('init:clear_stored_device_id', {
          server: officialServer,
          storageDir: officialDir,
          arg,
        })
        ids.push(run.result.deviceId)
      }
      return ids
    }
    const ourRuns = async () => {
      const ids: string[] = []
      for (const [deviceId, key] of [
        ['first', 'run-1'],
        ['second', 'run-2'],
        ['second', 'run-3'],
      ] as const) {
        const telemeter = createTelemeter({
          url: oursServer.url,
          appKey: APP_KEY,
          deviceId,
          storagePath: oursDir,
          sessions: 'manual',
          serverConfig: false,
          debug: captureLogger(),
        })
        telemeter.event(key)
        await telemeter.shutdown()
        ids.push(telemeter.deviceId)
      }
      return ids
    }
    const [theirIds, ourIds] = await Promise.all([officialRuns(), ourRuns()])
    expect(theirIds).toEqual(['first', 'first', 'second'])
    expect(ourIds).toEqual(['first', 'second', 'second'])
    expect(customEventsOf(officialServer, 'first').map((event) => event.key)).toEqual(['run-1', 'run-2'])
    expect(customEventsOf(oursServer, 'first').map((event) => event.key)).toEqual(['run-1'])
    expect(customEventsOf(oursServer, 'second').map((event) => event.key)).toEqual(['run-2', 'run-3'])
    expect(customEventsOf(officialServer, 'second').map((event) => event.key)).toEqual(['run-3'])
    expect(clean(officialServer, oursServer)).toEqual([])
  })

  it("test_mode → debug: 'print' (payloads printed, nothing sent)", async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('init:test_mode'),
      () => runOurs((t) => t.event('never-sent'), { config: { debug: 'print' } }),
    )
    expect(official.result).toEqual({ queued: 1 })
    expect(official.server.requests).toEqual([])
    expect(ours.server.requests).toEqual([])
    expect(ours.server.connections).toBe(0)
  })

  it('storage_path → storagePath (JSON files vs an append-only journal)', async () => {
    const [officialServer, officialDir, oursServer, oursDir] = await Promise.all([
      testServer(SERVER_OPTIONS),
      tempDir(),
      testServer(SERVER_OPTIONS),
      tempDir(),
    ])
    // Each side: a run while the server is down (the event stays on disk), then a run that delivers both.
    const officialRuns = async () => {
      officialServer.setFault({ type: 'down' })
      const offline = await runOfficial('init:storage_path', {
        server: officialServer,
        storageDir: officialDir,
        arg: { run: 1, exitEarly: true },
      })
      officialServer.setFault(null)
      await runOfficial('init:storage_path', {
        server: officialServer,
        storageDir: officialDir,
        arg: { run: 2 },
      })
      return offline
    }
    const ourRuns = async () => {
      const config = {
        url: oursServer.url,
        appKey: APP_KEY,
        deviceId: DEVICE_ID,
        storagePath: oursDir,
        sessions: 'manual',
        serverConfig: false,
        debug: captureLogger(),
      } as const
      oursServer.setFault({ type: 'down' })
      const first = createTelemeter(config)
      first.event('stored-1')
      await first.shutdown({ timeoutMs: 300 })
      oursServer.setFault(null)
      const second = createTelemeter(config)
      second.event('stored-2')
      await second.shutdown()
    }
    const [offline] = await Promise.all([officialRuns(), ourRuns()])
    expect(offline.result).toEqual({ queued: 1 })

    expect(customEventsOf(oursServer)).toEqual(customEventsOf(officialServer))
    expect(customEventsOf(oursServer).map((event) => event.key)).toEqual(['stored-1', 'stored-2'])
    const officialFiles = (await readdir(officialDir)).sort()
    expect(officialFiles).toEqual(
      expect.arrayContaining(['__cly_id.json', '__cly_queue.json', '__cly_event.json']),
    )
    expect(officialFiles.every((file) => file.endsWith('.json'))).toBe(true)
    const ourFiles = await readdir(oursDir)
    expect(ourFiles.some((file) => file.endsWith('.json') && file.startsWith('__cly'))).toBe(false)
    expect(ourFiles.length).toBeGreaterThan(0)
    expect(clean(officialServer, oursServer)).toEqual([])
  })

  it("storage_type → storage: 'memory' | 'file'", async () => {
    const ourDir = await tempDir()
    const [official, ours] = await sideBySide(
      () => runOfficial('init:storage_type'),
      () => runOurs((t) => t.event('in-memory'), { config: { storage: 'memory', storagePath: ourDir } }),
    )
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    expect(await readdir(official.storageDir)).toEqual([])
    expect(await readdir(ourDir)).toEqual([])
    expect(ours.telemeter.status().storage).toEqual({ kind: 'memory', durable: false })
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('custom_storage_method → storage: StorageAdapter', async () => {
    const appended: StoredRequest[] = []
    const values = new Map<string, string>()
    const adapter: StorageAdapter = {
      async open() {
        return { requests: [], values: Object.fromEntries(values) }
      },
      async append(requests) {
        appended.push(...requests)
      },
      async remove() {},
      async setValue(key, value) {
        if (value === null) values.delete(key)
        else values.set(key, value)
      },
      async close() {},
    }
    const [official, ours] = await sideBySide(
      () => runOfficial('init:custom_storage_method'),
      () => runOurs((t) => t.event('custom-stored'), { config: { storage: adapter } }),
    )
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    expect(official.result.keys).toEqual(expect.arrayContaining(['cly_event', 'cly_id', 'cly_queue']))
    expect(appended.some((request) => request.body.includes('custom-stored'))).toBe(true)
    expect(values.get('deviceId')).toBe(DEVICE_ID)
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('require_consent → requireConsent', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('init:require_consent'),
      () =>
        runOurs(
          async (t) => {
            // Once storage is open (the own device's stored consent is known).
            await t.flush()
            t.event('before-consent')
            t.giveConsent('events')
            t.event('after-consent')
          },
          { config: { requireConsent: true } },
        ),
    )
    expect(customEventsOf(ours.server)).toEqual(customEventsOf(official.server))
    expect(customEventsOf(ours.server).map((event) => event.key)).toEqual(['after-consent'])
    expect(ours.server.user(DEVICE_ID)?.consent).toEqual({ events: true })
    expect(official.server.user(DEVICE_ID)?.consent).toMatchObject({ events: true })
    expect(new Set(violationCodes(official.server))).toEqual(new Set(['invalid-location']))
    expect(violationCodes(ours.server)).toEqual([])
  })

  it('remote_config (true | callback) → remoteConfig: { auto: true } and fetchRemoteConfig()', async () => {
    const remoteConfig = { color: 'blue', limit: 5 }
    let fetched: Record<string, unknown> = {}
    const [official, ours] = await sideBySide(
      () => runOfficial('init:remote_config', { serverOptions: { remoteConfig } }),
      () =>
        runOurs(
          async (t, server) => {
            await server.waitFor((s) => s.requests.some((request) => request.endpoint === '/o/sdk'))
            fetched = await t.fetchRemoteConfig()
          },
          { config: { remoteConfig: { auto: true } }, serverOptions: { remoteConfig } },
        ),
    )
    expect(fetched).toEqual(official.result.values)
    expect(ours.telemeter.getRemoteConfig()).toEqual(remoteConfig)
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('http_options → beforeRequest (or headers / agent)', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('init:http_options'),
      () =>
        runOurs((t) => t.event('through-gateway'), {
          config: {
            beforeRequest: (request) => {
              request.headers['x-gateway-key'] = 'k-123'
            },
          },
        }),
    )
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    for (const server of [official.server, ours.server]) {
      expect(server.requests.length).toBeGreaterThan(0)
      for (const request of server.requests) expect(request.headers['x-gateway-key']).toBe('k-123')
    }
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it.each(['max_breadcrumb_count', 'max_logs'])('%s → limits.breadcrumbCount', async (option) => {
    const [official, ours] = await sideBySide(
      () => runOfficial('init:max_breadcrumb_count', { arg: { option } }),
      () =>
        runOurs(
          (t) => {
            for (const line of ['one', 'two', 'three', 'four']) t.addBreadcrumb(line)
            t.captureError(new TypeError('parity boom'))
          },
          { config: { limits: { breadcrumbCount: 2 } } },
        ),
    )
    // Both drop the oldest; the official SDK keeps one more than the limit.
    expect(crashesOf(official.server)[0]?.logs).toBe('two\nthree\nfour')
    expect(crashesOf(ours.server)[0]?.logs).toBe('three\nfour')
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('max_key_length → limits.keyLength', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('init:max_key_length'),
      () =>
        runOurs((t) => t.event('abcdefgh', { segmentation: { longkey: 'v' } }), {
          config: { limits: { keyLength: 4 } },
        }),
    )
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    expect(customEventsOf(ours.server)).toEqual([{ key: 'abcd', count: 1, segmentation: { long: 'v' } }])
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('max_value_size → limits.valueSize', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('init:max_value_size'),
      () =>
        runOurs((t) => t.event('values', { segmentation: { plan: 'enterprise' } }), {
          config: { limits: { valueSize: 4 } },
        }),
    )
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    expect(customEventsOf(ours.server)).toEqual([{ key: 'values', count: 1, segmentation: { plan: 'ente' } }])
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('max_segmentation_values → limits.segmentationValues', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('init:max_segmentation_values'),
      () =>
        runOurs((t) => t.event('segments', { segmentation: { a: 1, b: 2, c: 3 } }), {
          config: { limits: { segmentationValues: 2 } },
        }),
    )
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    expect(customEventsOf(ours.server)).toEqual([{ key: 'segments', count: 1, segmentation: { a: 1, b: 2 } }])
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('max_stack_trace_lines_per_thread, max_stack_trace_line_length → limits.stackTraceLines, limits.stackTraceLineLength', async () => {
    const error = new Error('x'.repeat(30))
    error.stack = `Error: ${'x'.repeat(30)}\n${'    at frame (/srv/app/a-long-file-name.js:1:1)\n'.repeat(5)}`
    const [official, ours] = await sideBySide(
      () => runOfficial('init:max_stack_trace'),
      () =>
        runOurs((t) => t.captureError(error), {
          config: { limits: { stackTraceLines: 2, stackTraceLineLength: 20 } },
        }),
    )
    const errors = (server: typeof ours.server) => server.crashes(DEVICE_ID).map((crash) => crash.error)
    expect(errors(ours.server)).toEqual(errors(official.server))
    expect(errors(ours.server)).toEqual([`Error: ${'x'.repeat(13)}\n    at frame (/srv/a`])
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('metrics → metrics', async () => {
    const metrics = { _device: 'aws-server', _carrier: 'none', _app_version: '9.9.9' }
    const [official, ours] = await sideBySide(
      () => runOfficial('init:metrics'),
      () =>
        runOurs(
          (t) => {
            t.beginSession()
            t.captureError(new TypeError('parity boom'))
          },
          { config: { metrics } },
        ),
    )
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    expect(userOf(ours.server)?.metrics).toMatchObject(metrics)
    // Crash reports take `_os`, `_os_version` and `_app_version` from the metrics too.
    expect(crashesOf(ours.server)[0]?.app_version).toBe('9.9.9')
    expect(clean(official.server, ours.server)).toEqual([])
  })

  it('country_code, city, ip_address → countryCode, city, ip', async () => {
    const [official, ours] = await sideBySide(
      () => runOfficial('init:location'),
      () =>
        runOurs((t) => t.beginSession(), {
          config: { countryCode: 'DE', city: 'Berlin', ip: '203.0.113.7' },
        }),
    )
    expect(storedOf(ours.server)).toEqual(storedOf(official.server))
    expect(userOf(ours.server)).toMatchObject({ country_code: 'DE', city: 'Berlin', ip: '203.0.113.7' })
    expect(clean(official.server, ours.server)).toEqual([])
  })
})
