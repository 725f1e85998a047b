import { describe, expect, it } from 'vitest'
import type { DropInfo, StorageAdapter, StoredData, Telemeter } from '../../src/index.js'
import { setup, tempDir, testServer } from '../helpers.js'
import { actionOf, fileTelemeter, ingestRequests, itemsOf, sdkRequests } from './support.js'

/** Resolves once the settings (which carry `lt: false` as a marker) were applied. */
async function applied(telemeter: Telemeter, server: Parameters<typeof sdkRequests>[0]): Promise<void> {
  await server.waitFor(() => telemeter.status().tracking.location === false)
}

describe('server-side SDK settings (method=sc)', () => {
  it('are fetched at start with the protocol parameters', async () => {
    const { server, telemeter } = await setup(
      { deviceId: 'own', serverConfig: true, appVersion: '3.2.1' },
      { sdkConfig: { lt: false } },
    )
    await applied(telemeter, server)
    const [request] = sdkRequests(server, 'sc')
    expect(request?.method).toBe('GET')
    expect(request?.query).toMatchObject({
      method: 'sc',
      app_key: 'TEST_APP_KEY',
      device_id: 'own',
      t: '0',
      av: '3.2.1',
      sdk_name: 'telemeter-node',
      sdk_version: expect.any(String),
    })
    expect(String(request?.query.timestamp)).toMatch(/^\d{13}$/)
    expect(request?.responseBody).toContain('"v":2')
    expect(server.violations).toEqual([])
  })

  it('honours tracking: false (nothing recorded) and networking: false (nothing sent, kept queued)', async () => {
    const tracking = await setup({ deviceId: 'own', serverConfig: true }, { sdkConfig: { tracking: false } })
    await tracking.server.waitFor(() => tracking.telemeter.status().decidedBy === 'server')
    expect(tracking.telemeter.status()).toMatchObject({ enabled: false, decidedBy: 'server' })
    tracking.telemeter.event('refused')
    tracking.telemeter.forDevice('user-1').beginSession()
    await tracking.telemeter.flush()
    expect(ingestRequests(tracking.server)).toEqual([])

    const networking = await setup(
      { deviceId: 'own', serverConfig: true },
      { sdkConfig: { networking: false } },
    )
    await networking.server.waitFor(() => networking.telemeter.status().decidedBy === 'server')
    networking.telemeter.event('queued')
    networking.telemeter.forDevice('user-1').event('queued')
    await networking.telemeter.flush()
    expect(ingestRequests(networking.server)).toEqual([])
    expect(networking.telemeter.stats()).toMatchObject({ queued: 2, sent: 0 })
    expect(networking.server.violations).toEqual([])
  })

  it('honours the per-feature switches st, crt, vt, cet and lt', async () => {
    const { server, telemeter } = await setup(
      { deviceId: 'own', serverConfig: true },
      { sdkConfig: { st: false, crt: false, vt: false, cet: false, lt: false }, sessionCooldownS: 0 },
    )
    await applied(telemeter, server)
    expect(telemeter.status().tracking).toMatchObject({
      sessions: false,
      crashes: false,
      views: false,
      events: false,
      location: false,
      apm: true,
      users: true,
    })
    for (const scope of [telemeter, telemeter.forDevice('user-1')]) {
      scope.beginSession()
      scope.event('custom')
      scope.view('home')
      scope.captureError(new Error('refused'))
      scope.setLocation({ countryCode: 'DE' })
      scope.reportTrace({ type: 'device', name: 'allowed', metrics: { duration: 1 } })
      scope.setUserDetails({ name: 'allowed' })
    }
    await telemeter.flush()
    for (const deviceId of ['own', 'user-1']) {
      expect(itemsOf(server, deviceId).map((item) => actionOf(item.params))).toEqual(['apm', 'user'])
    }
    expect(server.violations).toEqual([])
  })

  it('sends the location opt-out with begin_session when the server switches location off', async () => {
    const { server, telemeter } = await setup(
      { deviceId: 'own', serverConfig: true },
      { sdkConfig: { lt: false }, sessionCooldownS: 0 },
    )
    await applied(telemeter, server)
    telemeter.setLocation({ countryCode: 'DE' })
    telemeter.beginSession()
    await telemeter.flush()
    const [begin] = itemsOf(server, 'own')
    expect(begin?.params).toMatchObject({ begin_session: expect.anything(), location: '' })
    expect(begin?.params.country_code).toBeUndefined()
    expect(server.violations).toEqual([])
  })

  it('honours eqs and the limits lkl, lvs, lsv, lbc, ltlpt and ltl', async () => {
    const { server, telemeter } = await setup(
      { deviceId: 'own', serverConfig: true },
      { sdkConfig: { lt: false, eqs: 3, lkl: 10, lvs: 5, lsv: 2, lbc: 3, ltlpt: 4, ltl: 20 } },
    )
    await applied(telemeter, server)

    for (let i = 0; i < 7; i++) telemeter.event('batched', { segmentation: { i } })
    telemeter.event('a-very-long-event-key', { segmentation: { first: 'abcdefgh', second: 2, third: 3 } })
    for (let i = 0; i < 5; i++) telemeter.addBreadcrumb(`crumb ${i}`.replace('rumb ', ''))
    const error = new Error('limited')
    error.stack = [
      'Error: limited',
      ...Array.from({ length: 10 }, (_, i) => `    at frame${i} (/srv/app/file.js:1:1)`),
    ].join('\n')
    telemeter.captureError(error)
    await telemeter.flush()

    const sizes = itemsOf(server, 'own')
      .filter((item) => Array.isArray(item.params.events))
      .map((item) => (item.params.events as unknown[]).length)
    expect(sizes).toEqual([3, 3, 2])
    expect(server.events({ key: 'a-very-lo' })).toHaveLength(0)
    const [long] = server.events({ key: 'a-very-lon' })
    expect(long?.segmentation).toEqual({ first: 'abcde', second: 2 })
    const [crash] = server.crashes('own')
    // lbc = 3 breadcrumbs kept, each cut to lvs = 5 characters.
    expect(crash?.logs).toBe('c2\nc3\nc4')
    expect(crash?.error.split('\n')).toEqual([
      'Error: limited',
      '    at frame0 (/srv/',
      '    at frame1 (/srv/',
      '    at frame2 (/srv/',
    ])

    expect(server.violations).toEqual([])
  })

  it('honours rqs: the queue keeps the newest requests', async () => {
    const { server, telemeter } = await setup(
      { deviceId: 'own', serverConfig: true },
      { sdkConfig: { lt: false, rqs: 2 } },
    )
    const dropped: DropInfo[] = []
    telemeter.on('dropped', (info) => dropped.push(info))
    await applied(telemeter, server)
    server.setFault({ type: 'down' })
    for (let i = 0; i < 4; i++) telemeter.forDevice(`queued-${i}`).event('q')
    await telemeter.flush()
    expect(telemeter.stats().queued).toBe(2)
    expect(dropped.filter((info) => info.reason === 'queue-full')).toHaveLength(2)
    server.setFault(null)
    await telemeter.flush()
    expect(server.events({ key: 'q' }).map((e) => e.device_id)).toEqual(['queued-2', 'queued-3'])
    expect(server.violations).toEqual([])
  })

  it('honours sui: the automatic session is extended at the server-set interval', async () => {
    const { server, telemeter } = await setup(
      { deviceId: 'own', serverConfig: true, sessions: 'auto' },
      { sdkConfig: { lt: false, sui: 1 } },
    )
    await applied(telemeter, server)
    await server.waitFor((s) => itemsOf(s, 'own').some((item) => actionOf(item.params) === 'extend'), 10_000)
    const extend = itemsOf(server, 'own').find((item) => actionOf(item.params) === 'extend')
    expect(Number(extend?.params.session_duration)).toBeGreaterThanOrEqual(1)
    expect(server.violations).toEqual([])
  })

  it('drops requests older than dort hours instead of sending them', async () => {
    const server = await testServer()
    const old = Date.now() - 3 * 3_600_000
    const fresh = Date.now() - 60_000
    const request = (id: number, timestamp: number, key: string) => ({
      id,
      feature: 'events' as const,
      body: JSON.stringify({
        app_key: 'TEST_APP_KEY',
        device_id: 'own',
        timestamp,
        hour: new Date(timestamp).getHours(),
        dow: new Date(timestamp).getDay(),
        events: [{ key, count: 1, timestamp }],
      }),
    })
    const storage: StorageAdapter = {
      async open(): Promise<StoredData> {
        return {
          requests: [request(1, old, 'too-old'), request(2, fresh, 'recent')],
          values: { serverConfig: JSON.stringify({ dort: 2 }) },
        }
      },
      async append() {},
      async remove() {},
      async setValue() {},
      async close() {},
    }
    const { telemeter } = fileTelemeter(server, await tempDir(), {
      deviceId: 'own',
      storage,
      serverConfig: true,
    })
    const dropped: DropInfo[] = []
    telemeter.on('dropped', (info) => dropped.push(info))
    await telemeter.flush()
    expect(server.events().map((e) => e.key)).toEqual(['recent'])
    expect(dropped).toContainEqual(expect.objectContaining({ reason: 'expired', requests: 1, events: 1 }))
    expect(server.violations).toEqual([])
  })

  it('use the local config as the default; the server may switch off but never on against the operator', async () => {
    const { server, telemeter } = await setup(
      { deviceId: 'own', serverConfig: true, maxEventsPerRequest: 4, tracking: { events: false } },
      { sdkConfig: { lt: false, cet: true, cr: true } },
    )
    await applied(telemeter, server)
    expect(telemeter.status()).toMatchObject({
      consentRequired: true,
      tracking: { events: false, views: true, location: false },
    })
    const scope = telemeter.forDevice('user-1')
    scope.event('refused-by-operator')
    scope.view('refused-for-consent')
    scope.giveConsent('views', 'events')
    scope.event('still-refused-by-operator')
    for (let i = 0; i < 6; i++) scope.view(`page-${i}`)
    await telemeter.flush()
    expect(server.events({ key: 'refused-by-operator' })).toEqual([])
    expect(server.events({ key: 'still-refused-by-operator' })).toEqual([])
    const viewRequests = itemsOf(server, 'user-1')
      .filter((item) => Array.isArray(item.params.events))
      .map((item) => (item.params.events as unknown[]).length)
    // Config maxEventsPerRequest (4) stays in force: the server sent no eqs.
    expect(Math.max(...viewRequests)).toBe(4)
    expect(
      server.events({ key: '[CLY]_view', deviceId: 'user-1' }).filter((e) => e.segmentation.visit === 1),
    ).toHaveLength(6)
    expect(server.violations).toEqual([])
  })

  it('are kept for the next start and apply from its first event, while the server cannot answer', async () => {
    const server = await testServer({ sdkConfig: { lt: false, cet: false, eqs: 2 } })
    const dir = await tempDir()
    const first = fileTelemeter(server, dir, { deviceId: 'own', serverConfig: true }).telemeter
    await applied(first, server)
    await first.shutdown()

    server.setFault({ type: 'status', status: 500, match: (request) => request.endpoint === '/o/sdk' })
    const { telemeter: second } = fileTelemeter(server, dir, { deviceId: 'own', serverConfig: true })
    second.event('refused-at-once')
    second.forDevice('user-1').event('refused-too')
    for (let i = 0; i < 3; i++) second.view(`page-${i}`)
    await second.flush()
    await server.waitFor((s) => sdkRequests(s, 'sc').length === 2)
    expect(sdkRequests(server, 'sc')[1]?.status).toBe(500)
    expect(second.status().tracking).toMatchObject({ events: false, location: false })
    expect(server.events({ key: 'refused-at-once' })).toEqual([])
    expect(server.events({ key: 'refused-too' })).toEqual([])
    const sizes = itemsOf(server, 'own')
      .filter((item) => Array.isArray(item.params.events))
      .map((item) => (item.params.events as unknown[]).length)
    // Five view events (three visits, two ends) in requests of at most eqs = 2.
    expect(sizes).toEqual([2, 2, 1])
    server.setFault(null)
    expect(server.violations).toEqual([])
  })
})
