import { createHash } from 'node:crypto'
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

const codes = () => server.violations.map((v) => v.code)
const STACK = 'TypeError: boom\n    at handler (/app/src/routes.ts:12:5)'

describe('crash', () => {
  it('stores a complete crash report and a [CLY]_crash event', async () => {
    const crash = {
      _error: STACK,
      _app_version: '1.2.3',
      _os: 'Linux',
      _os_version: '6.8',
      _nonfatal: 'true',
      _logs: 'started\nrequest GET /',
      _run: 42,
      _online: true,
      _custom: { route: 'GET /users/:id', $status: 500 },
    }
    const res = await get(server, base('c', { crash }))
    expect(res.json).toEqual(SUCCESS)
    const [report] = server.crashes('c')
    const appId = createHash('sha1').update('TEST_APP_KEY').digest('hex').slice(0, 24)
    expect(report).toMatchObject({
      device_id: 'c',
      error: STACK,
      name: 'TypeError: boom',
      nonfatal: true,
      os: 'Linux',
      os_version: '6.8',
      app_version: '1.2.3',
      logs: 'started\nrequest GET /',
      run: 42,
      custom: { route: 'GET /users/:id', status: 500 },
      group: createHash('sha1').update(`Linux${STACK}${appId}true`).digest('hex'),
    })
    expect(report?.fields.online).toBe(true)
    const [event] = server.events({ key: '[CLY]_crash' })
    expect(event?.name).toBe('TypeError: boom')
    expect(event?.segmentation).toMatchObject({
      nonfatal: 'true',
      os: 'Linux',
      app_version: '1.2.3',
      custom_route: 'GET /users/:id',
      custom_status: 500,
      crash: report?.group,
    })
    expect(codes()).toEqual(['invalid-crash-field'])
  })

  it.each(['_error', '_app_version', '_os'])(
    'silently ignores a crash without %s and reports it',
    async (field) => {
      const crash: Record<string, unknown> = { _error: STACK, _app_version: '1.0.0', _os: 'Linux' }
      crash[field] = ''
      const res = await get(server, base('c', { crash }))
      expect(res.json).toEqual(SUCCESS)
      expect(server.crashes()).toEqual([])
      expect(server.events({ key: '[CLY]_crash' })).toEqual([])
      expect(server.violations).toEqual([
        {
          code: 'crash-ignored',
          message: `crash without ${field} is silently ignored by the server`,
          deviceId: 'c',
          endpoint: '/i',
        },
      ])
    },
  )

  it('normalises _nonfatal and keeps an explicit _name', async () => {
    await get(
      server,
      base('c', {
        crash: { _error: STACK, _app_version: '1', _os: 'Linux', _nonfatal: false, _name: 'Boom' },
      }),
    )
    expect(server.crashes()[0]).toMatchObject({ nonfatal: false, name: 'Boom' })
    expect(server.events({ key: '[CLY]_crash' })[0]?.segmentation.nonfatal).toBe('false')
    expect(server.violations).toEqual([])
  })

  it('drops unknown fields and non-boolean flags', async () => {
    await get(
      server,
      base('c', {
        crash: { _error: STACK, _app_version: '1', _os: 'Linux', _stack: 'x', _muted: 'yes', _nonfatal: 1 },
      }),
    )
    expect(server.crashes()[0]?.fields).not.toHaveProperty('stack')
    expect(server.crashes()[0]?.fields).not.toHaveProperty('muted')
    expect(codes()).toEqual(['invalid-crash-field', 'invalid-crash-field', 'invalid-crash-field'])
  })
})

describe('apm', () => {
  const network = (extra: Record<string, unknown> = {}) => ({
    type: 'network',
    name: 'GET /users/:id',
    stz: Date.now() - 120,
    etz: Date.now() - 100,
    apm_metrics: {
      response_time: 20,
      response_code: 200,
      request_payload_size: 0,
      response_payload_size: 512,
    },
    ...extra,
  })

  it('stores a valid network trace as a trace and a [CLY]_apm_network event', async () => {
    const apm = network()
    await get(server, base('a', { apm }))
    expect(server.traces({ type: 'network', name: 'GET /users/:id' })).toEqual([
      {
        device_id: 'a',
        app_key: 'TEST_APP_KEY',
        type: 'network',
        name: 'GET /users/:id',
        stz: apm.stz,
        etz: apm.etz,
        metrics: apm.apm_metrics,
        attributes: undefined,
        timestamp: apm.stz,
      },
    ])
    const [event] = server.events({ key: '[CLY]_apm_network' })
    expect(event).toMatchObject({ name: 'GET /users/:id', dur: 20, timestamp: apm.stz })
    expect(event?.segmentation).toEqual({ name: 'GET /users/:id', ...apm.apm_metrics })
    expect(server.violations).toEqual([])
  })

  it('stores device traces with custom metrics', async () => {
    await get(
      server,
      base('a', {
        apm: { type: 'device', name: 'report_job', stz: 1, etz: 5, apm_metrics: { duration: 4, rows_2: 10 } },
      }),
    )
    expect(server.traces({ type: 'device' })[0]?.metrics).toEqual({ duration: 4, rows_2: 10 })
    expect(server.events({ key: '[CLY]_apm_device' })[0]?.dur).toBe(4)
    expect(server.violations).toEqual([])
  })

  it('drops invalid metric names and values', async () => {
    const apm = network({
      apm_metrics: {
        response_time: 5,
        response_code: 700,
        request_payload_size: -1,
        '1abc': 1,
        'a.b': 1,
        $x: 1,
        [`m${'x'.repeat(32)}`]: 1,
        duration: 3,
        db_time: 'slow',
        cache_hits: 2,
      },
    })
    await get(server, base('a', { apm }))
    expect(server.traces()[0]?.metrics).toEqual({ response_time: 5, response_code: 0, cache_hits: 2 })
    expect(codes()).toEqual(Array(8).fill('invalid-apm'))
  })

  it.each([
    ['an unknown type', { type: 'custom' }],
    ['a $ name', { name: '$secret' }],
    ['a name over 2048 chars', { name: 'n'.repeat(2049) }],
    ['no name', { name: '' }],
  ])('ignores a trace with %s', async (_label, override) => {
    await get(server, base('a', { apm: network(override) }))
    expect(server.traces()).toEqual([])
    expect(server.events()).toEqual([])
    expect(codes()).toEqual(['invalid-apm'])
  })

  it('reports missing timing fields', async () => {
    await get(server, base('a', { apm: { type: 'network', name: 'x', apm_metrics: { response_code: 200 } } }))
    expect(server.traces()).toHaveLength(1)
    expect(codes()).toEqual(['invalid-apm', 'invalid-apm', 'invalid-apm'])
  })
})
