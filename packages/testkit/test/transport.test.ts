import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../src/index.js'
import { APP_KEY, base, encode, get, getRaw, postForm, postJson, SUCCESS } from './helpers.js'

let server: TestServer

beforeEach(async () => {
  server = await startTestServer()
})
afterEach(async () => {
  await server.close()
})

describe('routing and methods', () => {
  it('answers /o/ping with Countly headers', async () => {
    const res = await getRaw(server, '/o/ping')
    expect(res.status).toBe(200)
    expect(res.text).toBe('{"result":"Success"}')
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
  })

  it('answers OPTIONS with CORS headers and an empty body', async () => {
    const res = await fetch(`${server.url}/i`, { method: 'OPTIONS' })
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-allow-methods')).toBe('POST, GET, OPTIONS')
    expect(res.headers.get('access-control-allow-headers')).toBe('countly-token, Content-Type')
    expect(await res.text()).toBe('')
  })

  it.each(['PUT', 'DELETE', 'PATCH'])('answers %s with 405', async (method) => {
    const res = await fetch(`${server.url}/i`, { method })
    expect(res.status).toBe(405)
    expect(await res.json()).toEqual({ result: 'Method not allowed' })
  })

  it.each(['/nope', '/o/other', '/i/unknown', '/'])(
    'answers unknown path %s with 400 Invalid path',
    async (path) => {
      const res = await getRaw(server, path)
      expect(res.status).toBe(400)
      expect(res.json).toEqual({ result: 'Invalid path' })
    },
  )

  it('records every request with its answer', async () => {
    const params = base('dev-1')
    await get(server, params)
    const [record] = server.requests
    expect(record).toMatchObject({
      method: 'GET',
      path: '/i',
      endpoint: '/i',
      rawQuery: encode(params),
      body: '',
      status: 200,
      responseBody: '{"result":"Success"}',
      fault: undefined,
    })
    expect(record?.query.device_id).toBe('dev-1')
    expect(record?.headers.host).toBe(`127.0.0.1:${server.port}`)
    expect(record?.receivedAt).toBeGreaterThan(Date.now() - 5000)
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`)
  })
})

describe('/i rejections', () => {
  it.each([
    ['app_key missing', { device_id: 'd' }],
    ['device_id missing', { app_key: APP_KEY }],
    ['device_id empty', { app_key: APP_KEY, device_id: '' }],
  ])('rejects a request with %s', async (_name, params) => {
    const res = await get(server, { ...params, timestamp: Date.now() })
    expect(res.status).toBe(400)
    expect(res.text).toBe('{"result":"Missing parameter \\"app_key\\" or \\"device_id\\""}')
    expect(server.items[0]).toMatchObject({
      outcome: 'rejected',
      reason: 'Missing parameter "app_key" or "device_id"',
    })
  })

  it('rejects an unknown app key', async () => {
    const res = await get(server, base('dev-1', { app_key: 'OTHER' }))
    expect(res.status).toBe(400)
    expect(res.json).toEqual({ result: 'App does not exist' })
    expect(server.items[0]).toMatchObject({
      outcome: 'rejected',
      reason: 'App does not exist',
      app_key: 'OTHER',
    })
    expect(server.users()).toEqual([])
  })

  it('accepts every configured app key and keeps their users apart', async () => {
    await server.close()
    server = await startTestServer({ appKey: ['A', 'B'] })
    expect((await get(server, base('same', { app_key: 'A' }))).status).toBe(200)
    expect((await get(server, base('same', { app_key: 'B' }))).status).toBe(200)
    expect(server.users().map((u) => u.app_key)).toEqual(['A', 'B'])
    expect(server.user('same')?.app_key).toBe('A')
  })

  it.each(['app_id', 'user_id'])('rejects %s that is not 24 chars, on every path', async (name) => {
    for (const path of ['/i', '/o/sdk', '/o/ping']) {
      const res = await get(server, base('dev-1', { [name]: 'short' }), path)
      expect(res.status).toBe(400)
      expect(res.json).toEqual({ result: `Invalid parameter "${name}"` })
    }
    expect(server.violations.map((v) => v.code)).toEqual([
      'forbidden-param',
      'forbidden-param',
      'forbidden-param',
    ])
  })

  it('accepts a 24-char app_id but reports it', async () => {
    const res = await get(server, base('dev-1', { app_id: 'a'.repeat(24) }))
    expect(res.status).toBe(200)
    expect(server.violations).toEqual([
      {
        code: 'forbidden-param',
        message: 'SDKs must never send "app_id"',
        deviceId: 'dev-1',
        endpoint: '/i',
      },
    ])
  })

  it('ignores the all-zero device id with 200', async () => {
    const res = await get(server, base('00000000-0000-0000-0000-000000000000', { begin_session: 1 }))
    expect(res.status).toBe(200)
    expect(res.json).toEqual({ result: 'Ignoring device_id' })
    expect(server.items[0]?.outcome).toBe('ignored')
    expect(server.users()).toEqual([])
    expect(server.violations[0]?.code).toBe('zero-device-id')
  })
})

describe('body parsing', () => {
  it('processes POST urlencoded exactly like GET', async () => {
    const events = [{ key: 'clicked', count: 2 }]
    await get(server, base('get-dev', { events }))
    await postForm(server, base('post-dev', { events }))
    expect(server.items.map((i) => [i.via, i.outcome])).toEqual([
      ['GET', 'processed'],
      ['POST', 'processed'],
    ])
    expect(server.events({ key: 'clicked' }).map((e) => [e.device_id, e.count])).toEqual([
      ['get-dev', 2],
      ['post-dev', 2],
    ])
    expect(server.items[1]?.params.events).toEqual(events)
    expect(server.violations).toEqual([])
  })

  it('accepts JSON bodies with real nested arrays and objects', async () => {
    const res = await postJson(
      server,
      base('json-dev', { events: [{ key: 'a', segmentation: { plan: 'pro' } }], metrics: { _os: 'Linux' } }),
    )
    expect(res.json).toEqual(SUCCESS)
    expect(server.events({ key: 'a' })[0]?.segmentation).toEqual({ plan: 'pro' })
    expect(server.user('json-dev')?.metrics).toEqual({ _os: 'Linux' })
  })

  it('lets body fields win over query fields', async () => {
    const res = await fetch(`${server.url}/i?device_id=from-query&app_key=${APP_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: encode({ device_id: 'from-body', timestamp: Date.now() }),
    })
    expect(res.status).toBe(200)
    expect(server.items[0]?.device_id).toBe('from-body')
    expect(server.user('from-body')).toBeDefined()
    expect(server.user('from-query')).toBeUndefined()
  })

  it('parses multipart/form-data fields', async () => {
    const form = new FormData()
    for (const [key, value] of Object.entries(
      base('multi-dev', { events: JSON.stringify([{ key: 'mp' }]) }),
    )) {
      form.append(key, String(value))
    }
    const res = await fetch(`${server.url}/i`, { method: 'POST', body: form })
    expect(res.status).toBe(200)
    expect(server.events({ key: 'mp', deviceId: 'multi-dev' })).toHaveLength(1)
  })

  it('does not parse a text/plain body and reports it', async () => {
    const res = await fetch(`${server.url}/i`, { method: 'POST', body: encode(base('plain')) })
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ result: 'Missing parameter "app_key" or "device_id"' })
    expect(server.violations[0]).toMatchObject({ code: 'unparsed-body', endpoint: '/i' })
  })

  it('reports malformed nested JSON and ignores that param', async () => {
    const res = await postForm(server, `${encode(base('dev-1'))}&events=%5B%7Bbroken&metrics=nope`)
    expect(res.json).toEqual(SUCCESS)
    expect(server.violations.map((v) => [v.code, v.message.slice(0, 10)])).toEqual([
      ['malformed-json', '"events" i'],
      ['malformed-json', '"metrics" '],
    ])
    expect(server.items[0]?.params.events).toBe('[{broken')
    expect(server.events()).toEqual([])
  })

  it('answers 413 above 20 MiB and reports it', async () => {
    const res = await postForm(server, `${encode(base('big'))}&pad=${'x'.repeat(20 * 1024 * 1024)}`)
    expect(res.status).toBe(413)
    expect(server.violations[0]?.code).toBe('body-too-large')
    expect(server.items).toEqual([])
  })

  it('answers 431 like Node when the request line and headers exceed 16 KiB', async () => {
    const long = await get(server, base('long', { pad: 'x'.repeat(16 * 1024) }))
    expect(long.status).toBe(431)
    expect(server.requests[0]?.status).toBe(431)
    expect(server.violations[0]).toMatchObject({ code: 'url-too-long', deviceId: 'long' })
    const short = await get(server, base('short', { pad: 'x'.repeat(15 * 1024) }))
    expect(short.status).toBe(200)
  })

  it("uses exactly Node's limit: URL + header names + values below 16384 bytes", async () => {
    const statusFor = (urlLength: number) =>
      new Promise<string>((resolve) => {
        const socket = connect(server.port, '127.0.0.1', () => {
          socket.write(
            `GET /i?a=${'x'.repeat(urlLength - 5)} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`,
          )
        })
        let data = ''
        socket.on('data', (chunk) => {
          data += String(chunk)
        })
        socket.on('close', () => resolve(data.split('\r\n')[0] ?? ''))
      })
    const headerBytes = 'Host'.length + 'h'.length + 'Connection'.length + 'close'.length
    expect(await statusFor(16_383 - headerBytes)).toBe('HTTP/1.1 400 Bad Request')
    expect(await statusFor(16_384 - headerBytes)).toBe('HTTP/1.1 431 Request Header Fields Too Large')
  })

  it('stores the forwarded client ip', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        `${server.url}/i?${encode(base('fwd'))}`,
        { headers: { 'x-forwarded-for': '203.0.113.9, 10.0.0.1' } },
        (res) => {
          res.resume()
          res.on('end', resolve)
        },
      )
      req.on('error', reject)
      req.end()
    })
    expect(server.user('fwd')?.ip).toBe('203.0.113.9')
    await get(server, base('param-ip', { ip_address: '198.51.100.7' }))
    expect(server.user('param-ip')?.ip).toBe('198.51.100.7')
  })
})

describe('path prefix', () => {
  it('strips the prefix before routing and includes it in url', async () => {
    await server.close()
    server = await startTestServer({ pathPrefix: 'countly/' })
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/countly`)
    const res = await get(server, base('pfx'))
    expect(res.json).toEqual(SUCCESS)
    expect(server.requests[0]).toMatchObject({ path: '/countly/i', endpoint: '/i' })
    expect((await getRaw(server, '/o/ping')).status).toBe(200)
  })
})
