import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../src/index.js'
import { APP_KEY, base, encode, get, getRaw, postForm, postJson, SUCCESS } from './helpers.js'

const DUPLICATE = { result: 'Success', info: 'Request ignored: Duplicate request' }
let server: TestServer

beforeEach(async () => {
  server = await startTestServer()
})
afterEach(async () => {
  await server.close()
})

describe('duplicate requests', () => {
  it('ignores the same GET sent twice', async () => {
    const params = base('dev-1', { events: [{ key: 'buy', sum: 5 }] })
    expect((await get(server, params)).json).toEqual(SUCCESS)
    const second = await get(server, params)
    expect(second.status).toBe(200)
    expect(second.json).toEqual(DUPLICATE)
    expect(server.items.map((i) => i.outcome)).toEqual(['processed', 'duplicate'])
    expect(server.items[1]?.reason).toBe('Duplicate request')
    expect(server.events({ key: 'buy' })).toHaveLength(1)
  })

  it('ignores the same POST body sent twice', async () => {
    const body = encode(base('dev-1', { events: [{ key: 'buy' }] }))
    await postForm(server, body)
    expect((await postForm(server, body)).json).toEqual(DUPLICATE)
  })

  it('still deduplicates when only rr changed (retry with a different queue size)', async () => {
    const params = base('dev-1', { events: [{ key: 'buy' }] })
    await get(server, { ...params, rr: 5 })
    expect((await get(server, { ...params, rr: 4 })).json).toEqual(DUPLICATE)
  })

  it('processes the same payload again with a new timestamp', async () => {
    const params = base('dev-1', { events: [{ key: 'buy' }] })
    await get(server, params)
    expect((await get(server, { ...params, timestamp: Number(params.timestamp) + 1 })).json).toEqual(SUCCESS)
    expect(server.events({ key: 'buy' })).toHaveLength(2)
  })

  it('only remembers the last request: replaying an older one is processed again', async () => {
    const a = base('dev-1', { events: [{ key: 'a' }] })
    const b = base('dev-1', { events: [{ key: 'b' }] })
    await get(server, a)
    await get(server, b)
    expect((await get(server, a)).json).toEqual(SUCCESS)
    expect(server.events({ key: 'a' })).toHaveLength(2)
    expect(server.items.map((i) => i.outcome)).toEqual(['processed', 'processed', 'processed'])
  })

  it('keeps the last request per user, not per server', async () => {
    const a = base('dev-a')
    await get(server, a)
    await get(server, base('dev-b'))
    expect((await get(server, a)).json).toEqual(DUPLICATE)
  })

  it('can be switched off', async () => {
    await server.close()
    server = await startTestServer({ preventDuplicateRequests: false })
    const params = base('dev-1', { events: [{ key: 'buy' }] })
    await get(server, params)
    expect((await get(server, params)).json).toEqual(SUCCESS)
    expect(server.events({ key: 'buy' })).toHaveLength(2)
  })

  it('does not touch the user when a request is a duplicate', async () => {
    const params = base('dev-1', { begin_session: 1 })
    await get(server, params)
    await get(server, params)
    expect(server.user('dev-1')?.sc).toBe(1)
    expect(server.events({ key: '[CLY]_session_begin' })).toHaveLength(1)
  })
})

describe('duplicate bulk items', () => {
  it('hashes "&" + JSON.stringify(item): the same item in a later bulk is a duplicate', async () => {
    const item = base('dev-1', { events: [{ key: 'x' }] })
    await postJson(server, { app_key: APP_KEY, requests: [item] }, '/i/bulk')
    await postJson(server, { app_key: APP_KEY, requests: [item] }, '/i/bulk')
    expect(server.items.map((i) => i.outcome)).toEqual(['processed', 'duplicate'])
  })

  it('does not strip rr inside bulk items', async () => {
    const item = base('dev-1', { events: [{ key: 'x' }] })
    await postJson(server, { app_key: APP_KEY, requests: [{ ...item, rr: 2 }] }, '/i/bulk')
    await postJson(server, { app_key: APP_KEY, requests: [{ ...item, rr: 1 }] }, '/i/bulk')
    expect(server.items.map((i) => i.outcome)).toEqual(['processed', 'processed'])
  })

  it('treats an item and a GET with the same params as different requests', async () => {
    const params = base('dev-1')
    await getRaw(server, `/i?${encode(params)}`)
    await postJson(server, { requests: [params] }, '/i/bulk')
    expect(server.items.map((i) => [i.via, i.outcome])).toEqual([
      ['GET', 'processed'],
      ['bulk', 'processed'],
    ])
  })
})
