import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { createTelemeter, type OutgoingRequest } from '../../src/index.js'
import { APP_KEY, onCleanup, setup, tempDir, testServer } from '../helpers.js'

/**
 * End-to-end checks of the features added for parity with countly-sdk-nodejs
 * (reportConversion, request, reportAppStart, metrics, init-time location,
 * beforeRequest), against the protocol-validating test server.
 */

describe('reportConversion', () => {
  it('sends campaign_id and campaign_user once per device and the server stores them', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' })
    telemeter.reportConversion({ campaignId: 'spring-sale', campaignUser: 'cu-7' })
    telemeter.reportConversion({ campaignId: 'summer-sale' })
    const other = telemeter.forDevice('user-1')
    other.reportConversion({ campaignId: 'autumn-sale' })
    other.reportConversion({ campaignId: 'winter-sale' })
    await telemeter.flush()

    expect(server.user('own')).toMatchObject({ campaign_id: 'spring-sale', campaign_user: 'cu-7' })
    expect(server.user('user-1')).toMatchObject({ campaign_id: 'autumn-sale', campaign_user: undefined })
    const conversions = server.items.filter((item) => item.params.campaign_id !== undefined)
    expect(conversions.map((item) => [item.device_id, item.params.campaign_id]).sort()).toEqual([
      ['own', 'spring-sale'],
      ['user-1', 'autumn-sale'],
    ])
    expect(server.violations).toEqual([])
  })

  it('remembers across restarts that the own device converted', async () => {
    const server = await testServer()
    const dir = await tempDir()
    const config = {
      url: server.url,
      appKey: APP_KEY,
      storagePath: dir,
      sessions: 'manual',
      serverConfig: false,
    } as const
    const first = createTelemeter({ ...config, deviceId: 'own' })
    first.reportConversion({ campaignId: 'spring-sale' })
    await first.shutdown()
    const second = createTelemeter({ ...config, deviceId: 'own' })
    second.reportConversion({ campaignId: 'summer-sale' })
    second.event('after-restart')
    await second.shutdown()

    expect(server.user('own')?.campaign_id).toBe('spring-sale')
    expect(server.items.filter((item) => item.params.campaign_id !== undefined)).toHaveLength(1)
    expect(server.events({ key: 'after-restart' })).toHaveLength(1)
    expect(server.violations).toEqual([])
  })

  it('needs the attribution consent and policy, and a campaign id', async () => {
    const { server, telemeter, logger } = await setup({ requireConsent: true })
    const refused = telemeter.forDevice('no-consent')
    refused.reportConversion({ campaignId: 'spring-sale' })
    const allowed = telemeter.forDevice('consented')
    allowed.giveConsent('attribution')
    allowed.reportConversion({ campaignId: '  ' } as never)
    allowed.reportConversion({ campaignId: 'spring-sale' })
    await telemeter.flush()

    expect(server.user('no-consent')).toBeUndefined()
    expect(server.user('consented')).toMatchObject({
      campaign_id: 'spring-sale',
      consent: { attribution: true },
    })
    expect(logger.warnings().some((line) => line.includes('reportConversion needs a campaignId'))).toBe(true)

    const policy = await setup({ tracking: { attribution: false } })
    policy.telemeter.forDevice('d').reportConversion({ campaignId: 'spring-sale' })
    policy.telemeter.forDevice('d').event('still-recorded')
    await policy.telemeter.flush()
    expect(policy.server.user('d')?.campaign_id).toBeUndefined()
    expect(policy.server.events({ key: 'still-recorded' })).toHaveLength(1)
    expect([...server.violations, ...policy.server.violations]).toEqual([])
  })
})

describe('request()', () => {
  const longEvents = JSON.stringify(
    Array.from({ length: 4 }, (_, index) => ({
      key: `imported_${index}`,
      count: index + 1,
      segmentation: { source: 'legacy-system', note: 'x'.repeat(80) },
    })),
  )

  it('sends the parameters given, JSON strings intact, and adds only what is missing', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' })
    expect(longEvents.length).toBeGreaterThan(256)
    telemeter.request({ events: longEvents, user_details: '{"custom":{"plan":"pro"}}' })
    const timestamp = Date.now() - 5 * 3_600_000
    telemeter
      .forDevice('user-9')
      .request({ begin_session: 1, timestamp, metrics: { _os: 'Linux', _app_version: '7.0.0' } })
    await telemeter.flush()

    const stored = server.events({ deviceId: 'own' }).filter((event) => event.key.startsWith('imported_'))
    expect(stored.map((event) => [event.key, event.count, event.segmentation])).toEqual(
      (JSON.parse(longEvents) as { key: string; count: number; segmentation: object }[]).map((event) => [
        event.key,
        event.count,
        event.segmentation,
      ]),
    )
    expect(server.user('own')?.custom).toEqual({ plan: 'pro' })
    const [own] = server.items.filter((item) => item.device_id === 'own')
    expect(own?.params).toMatchObject({
      app_key: APP_KEY,
      device_id: 'own',
      sdk_name: 'telemeter-node',
      hour: expect.any(Number),
      dow: expect.any(Number),
      tz: expect.any(Number),
      timestamp: expect.any(Number),
    })
    const [imported] = server.items.filter((item) => item.device_id === 'user-9')
    expect(imported?.params).toMatchObject({
      timestamp,
      hour: new Date(timestamp).getHours(),
      dow: new Date(timestamp).getDay(),
    })
    expect(server.user('user-9')).toMatchObject({ sc: 1, hos: true, metrics: { _app_version: '7.0.0' } })
    expect(server.violations).toEqual([])
  })

  it('keeps the host given protocol parameters and removes the ones the server refuses', async () => {
    const { server, telemeter, logger } = await setup({ deviceId: 'own' })
    telemeter.request({
      device_id: 'explicit-device',
      app_id: '123',
      user_id: 'u',
      checksum: 'abc',
      events: [{ key: 'explicit', count: 1 }],
    })
    telemeter.request({ events: '[{"key": "broken"', user_details: { custom: { ok: true } } })
    telemeter.request('nope' as never)
    await telemeter.flush()

    expect(server.events({ key: 'explicit' }).map((event) => event.device_id)).toEqual(['explicit-device'])
    const [explicit] = server.items.filter((item) => item.device_id === 'explicit-device')
    expect(explicit?.params).not.toHaveProperty('app_id')
    expect(explicit?.params).not.toHaveProperty('user_id')
    expect(explicit?.params).not.toHaveProperty('checksum')
    expect(server.events({ key: 'broken' })).toEqual([])
    expect(server.user('own')?.custom).toEqual({ ok: true })
    const warnings = logger.warnings().join('\n')
    expect(warnings).toContain('"app_id" is never sent')
    expect(warnings).toContain('"events" must be valid JSON')
    expect(warnings).toContain('request() needs an object')
    expect(server.violations).toEqual([])
  })

  it('applies policy and consent per parameter', async () => {
    const { server, telemeter } = await setup({ requireConsent: true, tracking: { crashes: false } })
    const device = telemeter.forDevice('d')
    device.giveConsent('users')
    device.request({
      events: [{ key: 'no-event-consent' }],
      crash: { _error: 'Error: x', _os: 'Linux', _app_version: '1.0.0' },
      user_details: { custom: { kept: 1 } },
    })
    await telemeter.flush()
    expect(server.events({ key: 'no-event-consent' })).toEqual([])
    expect(server.crashes('d')).toEqual([])
    expect(server.user('d')?.custom).toEqual({ kept: 1 })
    expect(server.violations).toEqual([])
  })
})

describe('reportAppStart()', () => {
  it('sends the app_start device trace from process start to the call, once', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' })
    const before = Date.now()
    telemeter.reportAppStart()
    telemeter.reportAppStart()
    const after = Date.now()
    await telemeter.flush()

    const traces = server.traces({ name: 'app_start' })
    expect(traces).toHaveLength(1)
    const [trace] = traces
    expect(trace).toMatchObject({ type: 'device', device_id: 'own', stz: Math.round(performance.timeOrigin) })
    expect(trace!.etz).toBeGreaterThanOrEqual(before)
    expect(trace!.etz).toBeLessThanOrEqual(after)
    expect(trace!.metrics.duration).toBe(trace!.etz - trace!.stz)
    expect(server.violations).toEqual([])
  })

  it('follows the apm policy', async () => {
    const { server, telemeter } = await setup({ tracking: { apm: false } })
    telemeter.reportAppStart()
    telemeter.event('marker')
    await telemeter.flush()
    expect(server.traces()).toEqual([])
    expect(server.events({ key: 'marker' })).toHaveLength(1)
  })
})

describe('metrics, countryCode, city, ip', () => {
  it('merge configured metrics into begin_session and remote-config requests', async () => {
    const { server, telemeter } = await setup(
      { deviceId: 'own', metrics: { _device: 'aws-server', _app_version: '9.9.9', _density: 2 } as never },
      { remoteConfig: { color: 'blue' } },
    )
    telemeter.beginSession()
    await telemeter.fetchRemoteConfig()
    await telemeter.flush()

    expect(server.user('own')?.metrics).toMatchObject({
      _device: 'aws-server',
      _app_version: '9.9.9',
      _density: '2',
      _os: expect.any(String),
    })
    const rc = server.requests.find((request) => request.endpoint === '/o/sdk')
    expect(JSON.parse(String(rc?.query.metrics))).toMatchObject({
      _device: 'aws-server',
      _app_version: '9.9.9',
    })
    expect(server.violations).toEqual([])
  })

  it('send the init-time location with the own device session start only', async () => {
    const { server, telemeter } = await setup({
      deviceId: 'own',
      countryCode: 'de',
      city: 'Berlin',
      ip: '203.0.113.7',
    })
    telemeter.beginSession()
    telemeter.forDevice('visitor').beginSession()
    await telemeter.flush()

    expect(server.user('own')).toMatchObject({ country_code: 'DE', city: 'Berlin', ip: '203.0.113.7' })
    const [begin] = server.items.filter((item) => item.device_id === 'own' && item.params.begin_session)
    expect(begin?.params).toMatchObject({ country_code: 'DE', city: 'Berlin', ip_address: '203.0.113.7' })
    const [visitor] = server.items.filter((item) => item.device_id === 'visitor')
    expect(visitor?.params).not.toHaveProperty('country_code')
    expect(server.user('visitor')?.country_code).toBeUndefined()
    expect(server.violations).toEqual([])
  })

  it('lets setLocation override the init-time location and warns about invalid values', async () => {
    const { server, telemeter, logger } = await setup({
      deviceId: 'own',
      countryCode: 'Germany',
      ip: 'not-an-ip',
    })
    telemeter.setLocation({ countryCode: 'FR', city: 'Paris' })
    telemeter.beginSession()
    await telemeter.flush()
    expect(server.user('own')).toMatchObject({ country_code: 'FR', city: 'Paris' })
    const warnings = logger.warnings().join('\n')
    expect(warnings).toContain('countryCode must be an ISO 3166-1 alpha-2 code')
    expect(warnings).toContain('ip must be an IPv4 or IPv6 address')
  })
})

/** A forward HTTP proxy (absolute-URI requests), recording what it relayed. */
async function forwardProxy() {
  const relayed: string[] = []
  const proxy = http.createServer((req, res) => {
    relayed.push(`${req.method} ${req.url}`)
    const target = new URL(req.url ?? '/')
    const upstream = http.request(
      target,
      { method: req.method, headers: { ...req.headers, via: '1.1 parity-proxy' } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    upstream.on('error', () => res.writeHead(502).end())
    req.pipe(upstream)
  })
  const sockets = new Set<Socket>()
  proxy.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const { port } = proxy.address() as AddressInfo
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        proxy.close(() => resolve())
      }),
  )
  return { port, relayed }
}

/** An agent that sends every request through a forward proxy, as proxy agents do. */
class ForwardProxyAgent extends http.Agent {
  constructor(private readonly proxyPort: number) {
    super({ keepAlive: false })
  }

  override createConnection(): Socket {
    return net.connect(this.proxyPort, '127.0.0.1')
  }

  // biome-ignore lint/suspicious/noExplicitAny: Node's addRequest is untyped
  addRequest(req: http.ClientRequest, options: any): void {
    req.path = `http://${options.host}:${options.port}${req.path}`
    // biome-ignore lint/suspicious/noExplicitAny: see above
    ;(http.Agent.prototype as any).addRequest.call(this, req, options)
  }
}

describe('beforeRequest', () => {
  it('sees every request and sets headers on it', async () => {
    const seen: { method: string; url: string }[] = []
    const { server, telemeter } = await setup(
      {
        deviceId: 'own',
        beforeRequest: (request: OutgoingRequest) => {
          seen.push({ method: request.method, url: request.url.pathname })
          request.headers['x-gateway-key'] = 'k-123'
          request.headers['user-agent'] = 'my-service/1.0'
        },
      },
      { remoteConfig: { color: 'blue' } },
    )
    telemeter.event('one')
    await telemeter.flush()
    telemeter.forDevice('a').event('two')
    telemeter.forDevice('b').event('three')
    await telemeter.flush()
    expect(await telemeter.fetchRemoteConfig()).toEqual({ color: 'blue' })

    expect(server.requests.length).toBeGreaterThanOrEqual(3)
    for (const request of server.requests) {
      expect(request.headers['x-gateway-key']).toBe('k-123')
      expect(request.headers['user-agent']).toBe('my-service/1.0')
    }
    expect(seen.map((entry) => entry.url)).toEqual(server.requests.map((request) => request.path))
    expect(new Set(server.requests.map((request) => request.endpoint))).toEqual(
      new Set(['/i', '/i/bulk', '/o/sdk']),
    )
    expect(server.violations).toEqual([])
  })

  it('routes requests through a proxy agent it sets', async () => {
    const proxy = await forwardProxy()
    const agent = new ForwardProxyAgent(proxy.port)
    onCleanup(() => agent.destroy())
    const { server, telemeter } = await setup({
      deviceId: 'own',
      beforeRequest: (request) => {
        request.agent = agent
      },
    })
    telemeter.event('via-proxy')
    telemeter.beginSession()
    await telemeter.flush()

    expect(server.events({ key: 'via-proxy' })).toHaveLength(1)
    expect(proxy.relayed.length).toBe(server.requests.length)
    expect(proxy.relayed[0]).toMatch(new RegExp(`^(GET|POST) ${server.url}/i`))
    for (const request of server.requests) expect(request.headers.via).toBe('1.1 parity-proxy')
    expect(server.violations).toEqual([])
  })

  it('sends the request unchanged when the hook throws', async () => {
    const { server, telemeter, logger } = await setup({
      beforeRequest: () => {
        throw new Error('hook bug')
      },
    })
    telemeter.event('still-sent')
    await telemeter.flush()
    expect(server.events({ key: 'still-sent' })).toHaveLength(1)
    expect(logger.warnings().some((line) => line.includes('beforeRequest threw (hook bug)'))).toBe(true)
    expect(telemeter.stats().dropped).toBe(0)
  })
})
