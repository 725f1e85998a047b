import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { printLive, startTestServer, summarize, type TestServer } from '../src/index.js'
import { base, encode, get } from './helpers.js'

let server: TestServer
beforeEach(async () => {
  server = await startTestServer({ sessionCooldownS: 0 })
})
afterEach(async () => {
  await server.close()
})

/** One request on its own TCP connection (no keep-alive pooling). */
function requestOnNewConnection(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${server.url}${path}`, { agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('waitFor', () => {
  it('resolves as soon as a later request satisfies the predicate', async () => {
    const waiting = server.waitFor((s) => s.events({ key: 'late' }).length === 1, 2000)
    setTimeout(() => void get(server, base('dev', { events: [{ key: 'late' }] })), 50)
    await expect(waiting).resolves.toBeUndefined()
    expect(server.events({ key: 'late' })).toHaveLength(1)
  })

  it('rejects after the timeout with what was received', async () => {
    await get(server, base('dev', { events: [{ key: 'got-this' }] }))
    const started = Date.now()
    const error = await server
      .waitFor((s) => s.events({ key: 'never' }).length > 0, 150)
      .catch((e: unknown) => e)
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
    expect(error).toBeInstanceOf(Error)
    const message = (error as Error).message
    expect(message).toContain('waitFor: condition not met within 150 ms')
    expect(message).toContain('HTTP requests       1    /i x1')
    expect(message).toMatch(/got-this\s+x1/)
  })

  it('treats a throwing predicate as not yet and names its last error', async () => {
    const error = await server
      .waitFor(() => {
        throw new Error('no user yet')
      }, 60)
      .then(() => new Error('resolved'))
      .catch((e: unknown) => e as Error)
    expect(error.message).toContain('(the predicate last threw: no user yet)')
  })
})

describe('connections', () => {
  it('counts accepted TCP connections', async () => {
    expect(server.connections).toBe(0)
    await requestOnNewConnection('/o/ping')
    await requestOnNewConnection('/o/ping')
    expect(server.connections).toBe(2)
    expect(server.requests).toHaveLength(2)
  })
})

describe('close', () => {
  it('destroys hanging sockets and is idempotent', async () => {
    server.setFault({ type: 'hang' })
    const hanging = fetch(`${server.url}/i?${encode(base('h'))}`).catch((e: unknown) => e)
    const idle = connect(server.port, '127.0.0.1')
    idle.on('error', () => {})
    idle.write('GET /i HTTP/1.1\r\nHost: x\r\n') // headers never finished
    const idleClosed = new Promise((resolve) => idle.on('close', resolve))
    await server.waitFor((s) => s.requests.length === 1 && s.connections === 2, 1000)
    const started = Date.now()
    await server.close()
    await server.close()
    expect(Date.now() - started).toBeLessThan(1000)
    expect(await hanging).toBeInstanceOf(Error)
    await idleClosed
    await expect(fetch(`${server.url}/o/ping`)).rejects.toThrow()
  })

  it('closes a server that is down', async () => {
    server.setFault({ type: 'down' })
    await expect(server.close()).resolves.toBeUndefined()
  })
})

describe('reset and copies', () => {
  it('forgets received data but keeps config and fault', async () => {
    server.setRemoteConfig({ a: 1 })
    await get(server, base('dev', { begin_session: 1, events: [{ key: 'x' }], crash: { _error: 'e' } }))
    server.setFault({ type: 'status', status: 500, match: (r) => r.endpoint === '/i/bulk' })
    server.reset()
    expect([server.requests, server.items, server.violations, server.events(), server.users()]).toEqual([
      [],
      [],
      [],
      [],
      [],
    ])
    expect(server.connections).toBe(0)
    expect((await get(server, base('dev', { method: 'rc' }), '/o/sdk')).json).toEqual({ a: 1 })
    const bulk = await fetch(`${server.url}/i/bulk`, { method: 'POST' })
    expect(bulk.status).toBe(500)
  })

  it('returns user copies that cannot change the server state', async () => {
    await get(server, base('dev', { user_details: { custom: { plan: 'pro' } } }))
    const copy = server.user('dev')
    if (copy) copy.custom.plan = 'hacked'
    expect(server.user('dev')?.custom.plan).toBe('pro')
  })
})

describe('summarize', () => {
  it('summarises requests, sessions, events, crashes, traces, users, consent and violations', async () => {
    const now = Date.now()
    await get(server, base('alice', { begin_session: 1, consent: { sessions: true, events: true } }))
    await get(
      server,
      base('alice', {
        events: [
          { key: 'purchase', count: 2, sum: 10 },
          { key: 'purchase', sum: 5.5 },
        ],
      }),
    )
    await get(server, base('alice', { user_details: { name: 'Alice', custom: { plan: 'pro' } } }))
    await get(
      server,
      base('alice', { crash: { _error: 'TypeError: x', _app_version: '1', _os: 'Linux', _nonfatal: true } }),
    )
    for (const response_time of [10, 20]) {
      await get(
        server,
        base('alice', {
          apm: {
            type: 'network',
            name: 'GET /a',
            stz: now - 50,
            etz: now,
            apm_metrics: { response_time, response_code: 200 },
          },
        }),
      )
    }
    await get(server, base('alice', { end_session: 1, session_duration: 42 }))
    await get(server, base('bob', { events: [{ key: '[CLY]_bogus' }] }))
    const text = summarize(server)
    expect(text).toContain(`Telemeter test server  ${server.url}`)
    expect(text).toMatch(/HTTP requests\s+8\s+\/i x8/)
    expect(text).toMatch(/Devices\s+2\s+alice, bob/)
    expect(text).toContain('begun 1, ended 1, open 0, duration total 42 s, mean 42 s')
    expect(text).toMatch(/purchase\s+x3\s+sum 15\.5/)
    expect(text).toMatch(/TypeError: x\s+x1\s+nonfatal\s+alice/)
    expect(text).toMatch(/network GET \/a\s+x2\s+mean response_time 15 ms/)
    expect(text).toContain('name=Alice custom {plan="pro"}')
    expect(text).toContain('sessions=true events=true')
    expect(text).toMatch(/Violations\s+1\s+dropped-internal-event x1/)
    expect(text).toContain(
      'dropped-internal-event [bob] /i: "[CLY]_bogus" is not a registered internal event',
    )
  })
})

describe('printLive', () => {
  it('prints one line per request, item, event and violation, and stops', async () => {
    const lines: string[] = []
    const stop = printLive(server, { write: (line) => lines.push(line) })
    await get(server, base('dev', { events: [{ key: 'clicked', count: 2 }, { key: '[CLY]_nope' }] }))
    stop()
    await get(server, base('dev'))
    expect(lines).toHaveLength(4)
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}GET {5}\/i$/)
    expect(lines[1]).toMatch(/request\s+dev\s+processed\s+events:2/)
    expect(lines[2]).toContain('! dropped-internal-event [dev]')
    expect(lines[3]).toMatch(/event\s+clicked\s+x2\s+\[dev\]/)
  })

  it('prints JSON lines', async () => {
    const lines: string[] = []
    printLive(server, { json: true, write: (line) => lines.push(line) })
    await get(
      server,
      base('dev', { apm: { type: 'device', name: 'job', stz: 1, etz: 2, apm_metrics: { duration: 1 } } }),
    )
    const kinds = lines.map((line) => (JSON.parse(line) as { kind: string }).kind)
    expect(kinds).toEqual(['request', 'item', 'event', 'trace', 'response'])
    expect(JSON.parse(lines[3] ?? '{}')).toMatchObject({
      kind: 'trace',
      type: 'device',
      name: 'job',
      metrics: { duration: 1 },
    })
  })

  it('refuses objects that are not test servers', () => {
    expect(() => printLive({} as TestServer)).toThrow('not a server returned by startTestServer()')
  })
})
