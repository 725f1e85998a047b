import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { APP_KEY, setup } from './helpers.js'

describe('delivery pipeline', () => {
  it('sends every request with the protocol fields, events merged per device', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own-device', appVersion: '1.4.2' })
    telemeter.event('purchase', { sum: 9.99, segmentation: { plan: 'pro' } })
    telemeter.event('purchase', { count: 2 })
    telemeter.forDevice('user-1').event('login')
    await telemeter.flush()

    expect(server.violations).toEqual([])
    const own = server.items.filter((item) => item.device_id === 'own-device')
    expect(own).toHaveLength(1)
    const params = own[0]!.params
    expect(params).toMatchObject({
      app_key: APP_KEY,
      device_id: 'own-device',
      t: 0,
      sdk_name: 'telemeter-node',
      sdk_version: expect.any(String),
    })
    expect(String(params.timestamp)).toMatch(/^\d{13}$/)
    expect(params.hour).toBe(new Date(Number(params.timestamp)).getHours())
    expect(params.dow).toBe(new Date(Number(params.timestamp)).getDay())
    expect(params.tz).toBe(0 - new Date().getTimezoneOffset() || 0)
    expect(typeof params.rr).toBe('number')
    const events = server.events({ deviceId: 'own-device' })
    expect(events.map((e) => [e.key, e.count, e.sum, e.segmentation])).toEqual([
      ['purchase', 1, 9.99, { plan: 'pro' }],
      ['purchase', 2, undefined, {}],
    ])
    expect(server.events({ deviceId: 'user-1' }).map((e) => e.key)).toEqual(['login'])
    expect(telemeter.stats()).toMatchObject({ queued: 0, sent: 2, sentEvents: 3, dropped: 0 })
  })

  it('batches many devices into /i/bulk (50 per call) and a lone request into /i', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' })
    for (let i = 0; i < 120; i++) telemeter.forDevice(`user-${i}`).event('tick')
    await telemeter.flush()
    const bulk = server.requests.filter((r) => r.endpoint === '/i/bulk')
    expect(bulk.length).toBe(3)
    expect(server.items.filter((i) => i.via === 'bulk')).toHaveLength(120)
    expect(server.events({ key: 'tick' })).toHaveLength(120)

    telemeter.event('alone')
    await telemeter.flush()
    const last = server.requests.at(-1)!
    expect(last.endpoint).toBe('/i')
    expect(last.method).toBe('GET')
    expect(server.violations).toEqual([])
  })

  it('overlaps bulk calls of different devices, never reordering one device, even when a call fails', async () => {
    for (const fault of [
      { type: 'slow', delayMs: 30 },
      { type: 'status', status: 503, times: 1 },
    ] as const) {
      const { server, telemeter } = await setup({ deviceId: 'own' })
      server.setFault({ type: 'down' })
      for (let i = 0; i < 60; i++) {
        const user = telemeter.forDevice(`user-${i}`)
        user.beginSession()
        user.event('step', { segmentation: { i } })
        user.endSession()
      }
      await telemeter.flush()
      server.setFault(fault)
      await telemeter.flush()
      await telemeter.flush()

      expect(server.violations).toEqual([])
      expect(telemeter.stats()).toMatchObject({ queued: 0, dropped: 0 })
      for (let i = 0; i < 60; i++) {
        const kinds = server.items
          .filter((item) => item.device_id === `user-${i}` && item.outcome === 'processed')
          .map((item) =>
            item.params.begin_session
              ? 'begin'
              : item.params.end_session
                ? 'end'
                : item.params.events
                  ? 'events'
                  : '?',
          )
        expect(kinds).toEqual(['begin', 'events', 'end'])
      }
      // 180 requests make four bulk calls that went out together.
      if (fault.type === 'slow') expect(server.connections).toBeGreaterThan(1)
    }
  })

  it('merges at most maxEventsPerRequest events per request', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own', maxEventsPerRequest: 10 })
    for (let i = 0; i < 25; i++) telemeter.event('e', { segmentation: { i } })
    await telemeter.flush()
    const sizes = server.items.map((item) => (item.params.events as unknown[]).length)
    expect(sizes).toEqual([10, 10, 5])
    expect(server.events().map((e) => e.segmentation.i)).toEqual(Array.from({ length: 25 }, (_, i) => i))
  })

  it('switches to POST above 2000 characters and with forcePost', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' })
    telemeter.event('big', {
      segmentation: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, 'v'.repeat(100)])),
    })
    await telemeter.flush()
    expect(server.requests.at(-1)).toMatchObject({ endpoint: '/i', method: 'POST' })

    const forced = await setup({ deviceId: 'own', forcePost: true })
    forced.telemeter.event('small')
    await forced.telemeter.flush()
    expect(forced.server.requests.at(-1)).toMatchObject({ endpoint: '/i', method: 'POST' })
    expect(forced.server.events({ key: 'small' })).toHaveLength(1)
  })

  it('signs every request with checksum256 and never uses bulk when salted', async () => {
    const salt = 's3cret'
    const { server, telemeter } = await setup({ deviceId: 'own', salt }, { salt })
    for (let i = 0; i < 5; i++) telemeter.forDevice(`u${i}`).event('signed')
    await telemeter.flush()
    expect(server.requests.every((r) => r.endpoint === '/i')).toBe(true)
    expect(server.items.every((i) => i.outcome === 'processed')).toBe(true)
    expect(server.events({ key: 'signed' })).toHaveLength(5)
    const raw = server.requests[0]!.rawQuery
    const data = raw.replace(/&checksum256=[0-9A-F]+$/, '')
    const expected = createHash('sha256')
      .update(data + salt)
      .digest('hex')
      .toUpperCase()
    expect(raw.endsWith(`&checksum256=${expected}`)).toBe(true)
    expect(server.violations).toEqual([])
  })

  it('keeps a URL path prefix', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' }, { pathPrefix: '/countly' })
    expect(server.url.endsWith('/countly')).toBe(true)
    telemeter.event('prefixed')
    await telemeter.flush()
    expect(server.events({ key: 'prefixed' })).toHaveLength(1)
    expect(server.requests[0]!.path.startsWith('/countly/i')).toBe(true)
  })

  it('gives unique 13-digit timestamps to requests made in the same millisecond', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' })
    for (let i = 0; i < 20; i++) telemeter.forDevice(`d${i}`).beginSession()
    await telemeter.flush()
    const stamps = server.items.map((item) => Number(item.params.timestamp))
    expect(new Set(stamps).size).toBe(20)
    expect(server.items.every((item) => item.outcome === 'processed')).toBe(true)
  })

  it('emits sent with request and event counts', async () => {
    const { telemeter } = await setup({ deviceId: 'own' })
    const sent: { requests: number; events: number }[] = []
    telemeter.on('sent', (info) => sent.push(info))
    telemeter.event('a')
    telemeter.event('b')
    await telemeter.flush()
    expect(sent).toEqual([{ requests: 1, events: 2, endpoint: '/i' }])
  })

  it('sanitises what the host records and warns once per cause', async () => {
    const { server, telemeter, logger } = await setup({ deviceId: 'own' })
    for (let i = 0; i < 3; i++) {
      telemeter.event('x'.repeat(200), {
        count: -4,
        sum: Number.NaN,
        segmentation: { $bad: 1, 'a.b': 2, ok: 'y'.repeat(300) },
      })
    }
    telemeter.event('[CLY]_session')
    telemeter.event(undefined as unknown as string)
    await telemeter.flush()
    const events = server.events()
    expect(events).toHaveLength(3)
    expect(events[0]!.key).toHaveLength(127)
    expect(events[0]!.count).toBe(1)
    expect(events[0]!.sum).toBeUndefined()
    expect(events[0]!.segmentation).toEqual({ ok: 'y'.repeat(256) })
    expect(logger.warnings().length).toBe(8)
    expect(server.violations).toEqual([])
  })

  it('ends the sessions of other devices at shutdown, at their last activity', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' }, { sessionCooldownS: 0 })
    telemeter.forDevice('user-a').beginSession()
    telemeter.forDevice('user-a').event('clicked')
    telemeter.forDevice('user-b').beginSession()
    await telemeter.shutdown({ timeoutMs: 2_000 })
    for (const id of ['user-a', 'user-b']) {
      expect(
        server.items.filter((i) => i.device_id === id && i.params.end_session !== undefined),
      ).toHaveLength(1)
      expect(server.user(id)?.hos).toBe(false)
    }
    expect(server.violations).toEqual([])
  })
})
