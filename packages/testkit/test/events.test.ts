import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../src/index.js'
import { base, get, SUCCESS } from './helpers.js'

let server: TestServer
beforeEach(async () => {
  server = await startTestServer()
})
afterEach(async () => {
  await server.close()
})

const send = (events: unknown[], extra: Record<string, unknown> = {}) =>
  get(server, base('dev', { events, ...extra }))
const codes = () => server.violations.map((v) => v.code)

describe('events', () => {
  it('stores events with count, sum, dur, segmentation and time', async () => {
    const timestamp = Date.now() - 10_000
    await send([
      {
        key: 'purchase',
        count: 3,
        sum: 9.99,
        dur: 2.5,
        segmentation: { plan: 'pro', qty: 2, ok: true },
        timestamp,
        hour: 9,
        dow: 1,
      },
    ])
    expect(server.events()).toEqual([
      {
        device_id: 'dev',
        app_key: 'TEST_APP_KEY',
        key: 'purchase',
        name: undefined,
        count: 3,
        sum: 9.99,
        dur: 2.5,
        segmentation: { plan: 'pro', qty: 2, ok: true },
        timestamp,
        hour: 9,
        dow: 1,
      },
    ])
    expect(server.violations).toEqual([])
  })

  it('uses parseInt for count, defaulting to 1', async () => {
    await send([
      { key: 'a' },
      { key: 'b', count: '4' },
      { key: 'c', count: 'many' },
      { key: 'd', count: 2.7 },
    ])
    expect(server.events().map((e) => [e.key, e.count])).toEqual([
      ['a', 1],
      ['b', 4],
      ['c', 1],
      ['d', 2],
    ])
    expect(codes()).toEqual(['invalid-count', 'invalid-count'])
  })

  it('rounds sum to 5 decimals and drops non-numeric sum and dur', async () => {
    await send([
      { key: 'a', sum: 1.234567891 },
      { key: 'b', sum: 'lots', dur: 'long' },
      { key: 'c', sum: '2.5' },
    ])
    expect(server.events().map((e) => [e.key, e.sum, e.dur])).toEqual([
      ['a', 1.23457, undefined],
      ['b', undefined, undefined],
      ['c', 2.5, undefined],
    ])
    expect(codes()).toEqual(['invalid-sum', 'invalid-dur'])
  })

  it('drops unregistered [CLY]_ events and keeps internal ones', async () => {
    await send([
      { key: '[CLY]_custom_thing' },
      { key: '[CLY]_action', segmentation: { type: 'click' } },
      { key: 'mine' },
    ])
    expect(server.events().map((e) => e.key)).toEqual(['[CLY]_action', 'mine'])
    expect(server.violations[0]).toMatchObject({ code: 'dropped-internal-event', deviceId: 'dev' })
  })

  it('reads [CLY]_orientation into the user without storing it', async () => {
    await send([{ key: '[CLY]_orientation', segmentation: { mode: 'landscape' } }])
    expect(server.events()).toEqual([])
    expect(server.user('dev')?.ornt).toBe('landscape')
    expect(server.violations).toEqual([])
  })

  it('drops keys of 128 characters or more', async () => {
    await send([{ key: 'k'.repeat(128) }, { key: 'k'.repeat(127) }, { key: `$${'k'.repeat(127)}` }])
    expect(server.events().map((e) => e.key.length)).toEqual([127, 128])
    expect(codes()).toEqual(['event-key-too-long'])
  })

  it('drops events without key and stringifies non-string keys', async () => {
    await send([{ count: 1 }, { key: 42 }, 'not-an-object'])
    expect(server.events().map((e) => e.key)).toEqual(['42'])
    expect(codes()).toEqual(['invalid-event', 'invalid-event', 'invalid-event'])
  })

  it('sanitises segmentation like drill', async () => {
    const tags = Array.from({ length: 12 }, (_, i) => `t${i}`)
    await send([
      {
        key: 'seg',
        segmentation: {
          $price: 5,
          'a.b.c': 'x',
          '$.': 1,
          gone: null,
          tags,
          nested: { deep: 1 },
          fine: 'yes',
        },
      },
    ])
    expect(server.events()[0]?.segmentation).toEqual({
      price: 5,
      abc: 'x',
      tags: tags.slice(0, 10),
      fine: 'yes',
    })
    expect(codes()).toEqual(Array(6).fill('invalid-segmentation'))
  })

  it('converts 10-digit event timestamps and replaces invalid ones by the request time', async () => {
    const requestTs = Date.now() - 5000
    await get(
      server,
      base('dev', {
        timestamp: requestTs,
        events: [
          { key: 's', timestamp: 1_700_000_000 },
          { key: 'bad', timestamp: 12345 },
        ],
      }),
    )
    expect(server.events().map((e) => e.timestamp)).toEqual([1_700_000_000_000, requestTs])
    expect(codes()).toEqual(['invalid-timestamp'])
  })

  it('bumps equal timestamps inside one request by 1 ms', async () => {
    const timestamp = Date.now() - 1000
    await send([
      { key: 'a', timestamp },
      { key: 'b', timestamp },
      { key: 'c', timestamp },
    ])
    expect(server.events().map((e) => e.timestamp)).toEqual([timestamp, timestamp + 1, timestamp + 2])
  })

  it('copies event and view ids', async () => {
    await send([{ key: 'a', id: 'e1', cvid: 'v1', pvid: 'v0', peid: 'e0' }])
    expect(server.events()[0]).toMatchObject({ id: 'e1', cvid: 'v1', pvid: 'v0', peid: 'e0' })
  })

  it('reports events that are not an array', async () => {
    const res = await get(server, base('dev', { events: { key: 'a' } }))
    expect(res.json).toEqual(SUCCESS)
    expect(server.events()).toEqual([])
    expect(codes()).toEqual(['invalid-param'])
  })
})

describe('request time', () => {
  it('reports a missing timestamp, other digit counts and bad hour / dow / tz', async () => {
    const { timestamp: _t, ...noTimestamp } = base('dev')
    await get(server, noTimestamp)
    await get(server, base('dev', { timestamp: 17_000_000_000 }))
    await get(server, base('dev', { hour: 24, dow: 7, tz: 'CET' }))
    expect(codes()).toEqual([
      'missing-timestamp',
      'invalid-timestamp',
      'invalid-time-field',
      'invalid-time-field',
      'invalid-time-field',
    ])
  })

  it('accepts 10-digit seconds (with fractions) and uses them as the item time', async () => {
    await get(server, base('dev', { timestamp: '1700000000.250' }))
    expect(server.items[0]?.timestamp).toBe(1_700_000_000_250)
    expect(server.violations).toEqual([])
  })

  it('clamps timestamps far in the future', async () => {
    await get(server, base('dev', { timestamp: Date.now() + 3_600_000 }))
    expect(server.items[0]?.timestamp).toBeLessThanOrEqual(Date.now())
    expect(codes()).toEqual(['invalid-timestamp'])
  })
})

describe('views and ratings', () => {
  it('names views, moves segmentation.dur and counts visits', async () => {
    await send([
      { key: '[CLY]_view', segmentation: { name: 'home', visit: 1, start: 1, segment: 'node' } },
      { key: '[CLY]_view', segmentation: { name: 'home', dur: 12.4 } },
    ])
    const views = server.events({ key: '[CLY]_view' })
    expect(views.map((v) => [v.name, v.dur, v.segmentation.dur])).toEqual([
      ['home', undefined, undefined],
      ['home', 12, undefined],
    ])
    expect(server.user('dev')).toMatchObject({ vc: 1, lv: 'home' })
    expect(server.violations).toEqual([])
  })

  it('drops views without a name and zeroes timestamp-like durations', async () => {
    await send([
      { key: '[CLY]_view', segmentation: { visit: 1 } },
      { key: '[CLY]_view', dur: 1_700_000_000, segmentation: { name: 'x' } },
    ])
    expect(server.events({ key: '[CLY]_view' }).map((v) => v.dur)).toEqual([0])
    expect(codes()).toEqual(['invalid-view', 'invalid-view'])
  })

  it('fills star rating fields like the server', async () => {
    await send([
      {
        key: '[CLY]_star_rating',
        segmentation: { widget_id: 'w1', rating: 4, platform: 'node', app_version: '1.0', comment: 'nice' },
      },
    ])
    const [rating] = server.events({ key: '[CLY]_star_rating' })
    expect(rating?.name).toBe('w1')
    expect(rating?.segmentation).toMatchObject({
      ratingSum: 4,
      platform_version_rate: 'node**1.0**4**w1',
      comment: 'nice',
    })
    await send([{ key: '[CLY]_star_rating', segmentation: { rating: 9 } }])
    expect(server.events({ key: '[CLY]_star_rating' })[1]?.segmentation.platform_version_rate).toBe(
      'undefined**undefined**9**undefined',
    )
    expect(codes()).toEqual(['invalid-rating'])
  })
})
