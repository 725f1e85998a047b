import { describe, expect, it } from 'vitest'
import type { DeviceScope, Telemeter } from '../../src/index.js'
import { setup } from '../helpers.js'
import { paramsWith } from './support.js'

describe.each([
  ['the Telemeter', (telemeter: Telemeter) => telemeter as DeviceScope, 'own'],
  ['a forDevice scope', (telemeter: Telemeter) => telemeter.forDevice('user-1'), 'user-1'],
])('APM on %s', (_label, scopeOf, deviceId) => {
  it('sends a network trace named after a route template as its own request', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' })
    const scope = scopeOf(telemeter)
    const etz = Date.now()
    scope.reportTrace({
      type: 'network',
      name: 'GET /users/:id',
      stz: etz - 42,
      etz,
      metrics: { response_time: 42, response_code: 200, request_payload_size: 0, response_payload_size: 512 },
    })
    scope.reportTrace({
      type: 'network',
      name: 'POST /orders',
      metrics: { response_time: 7.6, response_code: 503 },
    })
    await telemeter.flush()

    const requests = paramsWith(server, deviceId, 'apm')
    expect(requests).toHaveLength(2)
    expect(requests[0]?.events).toBeUndefined()
    expect(requests[0]?.apm).toEqual({
      type: 'network',
      name: 'GET /users/:id',
      stz: etz - 42,
      etz,
      apm_metrics: {
        response_time: 42,
        response_code: 200,
        request_payload_size: 0,
        response_payload_size: 512,
      },
      timestamp: etz - 42,
      hour: new Date(etz - 42).getHours(),
      dow: new Date(etz - 42).getDay(),
    })
    const traces = server.traces({ deviceId, type: 'network' })
    expect(traces.map((t) => [t.name, t.metrics])).toEqual([
      [
        'GET /users/:id',
        { response_time: 42, response_code: 200, request_payload_size: 0, response_payload_size: 512 },
      ],
      [
        'POST /orders',
        { response_time: 8, response_code: 503, request_payload_size: 0, response_payload_size: 0 },
      ],
    ])
    expect(traces[1]!.etz - traces[1]!.stz).toBe(8)
    expect(server.events({ key: '[CLY]_apm_network', deviceId })).toHaveLength(2)
    expect(server.violations).toEqual([])
  })

  it('sends device traces with a duration and custom metrics, and times startTrace().end()', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' })
    const scope = scopeOf(telemeter)
    const etz = Date.now()
    scope.reportTrace({
      type: 'device',
      name: 'app_start',
      stz: etz - 1500,
      etz,
      metrics: { duration: 1500 },
    })
    scope.reportTrace({ type: 'device', name: 'nightly_sync', stz: etz - 300, etz, metrics: { rows: 12 } })
    const trace = scope.startTrace('import_csv')
    await new Promise((resolve) => setTimeout(resolve, 20))
    trace.end({ rows: 1200, bytes_read: 4096.5 })
    trace.end({ rows: 1 })
    await telemeter.flush()

    const traces = server.traces({ deviceId, type: 'device' })
    expect(traces.map((t) => [t.name, t.etz - t.stz])).toEqual([
      ['app_start', 1500],
      ['nightly_sync', 300],
      ['import_csv', traces[2]!.metrics.duration],
    ])
    expect(traces[0]!.metrics).toEqual({ duration: 1500 })
    expect(traces[1]!.metrics).toEqual({ duration: 300, rows: 12 })
    expect(traces[2]!.metrics).toEqual({ duration: expect.any(Number), rows: 1200, bytes_read: 4096.5 })
    expect(traces[2]!.metrics.duration).toBeGreaterThanOrEqual(15)
    expect(server.events({ key: '[CLY]_apm_device', deviceId }).map((e) => e.name)).toEqual([
      'app_start',
      'nightly_sync',
      'import_csv',
    ])
    expect(server.violations).toEqual([])
  })

  it('refuses invalid keys and metrics with a warning, never an exception', async () => {
    const { server, telemeter, logger } = await setup({ deviceId: 'own' })
    const scope = scopeOf(telemeter)
    const calls: (() => void)[] = [
      () => scope.startTrace('not a key!').end(),
      () => scope.startTrace('x'.repeat(33)).end(),
      () => scope.startTrace('9lives').end(),
      () => scope.startTrace(undefined as unknown as string).end(),
      () => scope.reportTrace({ type: 'device', name: 'has.dot' }),
      () => scope.reportTrace({ type: 'network', name: '$internal' }),
      () => scope.reportTrace({ type: 'network', name: '   ' }),
      () => scope.reportTrace({ type: 'other' as 'device', name: 'job' }),
      () => scope.reportTrace(null as never),
      () => scope.startTrace('metrics_job').end(null as never),
      () =>
        scope.reportTrace({
          type: 'device',
          name: 'checked',
          metrics: {
            duration: 5,
            response_time: 3,
            frozen_frames: 1,
            'bad-name': 1,
            _under: 1,
            y: Number.NaN,
            z: '4' as unknown as number,
            ok_metric: 2,
            ['m'.repeat(33)]: 1,
          },
        }),
      () =>
        scope.reportTrace({
          type: 'network',
          name: 'GET /health',
          metrics: { response_time: -5, response_code: 999, custom: 1, response_payload_size: Number.NaN },
        }),
    ]
    for (const call of calls) expect(call).not.toThrow()
    await telemeter.flush()

    const traces = server.traces({ deviceId })
    expect(traces.map((t) => [t.name, t.metrics])).toEqual([
      ['metrics_job', { duration: expect.any(Number) }],
      ['checked', { duration: 5, ok_metric: 2 }],
      ['GET /health', { response_time: 0, request_payload_size: 0, response_payload_size: 0 }],
    ])
    const warnings = logger.warnings().join('\n')
    for (const fragment of [
      'custom trace key "not a key!"',
      `custom trace key "${'x'.repeat(33)}"`,
      'custom trace key "9lives"',
      'trace name must be a non-empty string',
      'custom trace key "has.dot"',
      'must not start with $',
      "trace type must be 'network' or 'device'",
      'reportTrace needs an options object',
      'trace metric "response_time" is reserved',
      'trace metric "frozen_frames" is reserved',
      'trace metric "bad-name"',
      'trace metric "_under"',
      'trace metric "y" must be a finite number',
      'trace metric "z" must be a finite number',
      `trace metric "${'m'.repeat(33)}"`,
      'network trace metric response_time must be a number >= 0',
      'response_code',
      'network traces carry only',
    ]) {
      expect(warnings).toContain(fragment)
    }
    expect(server.violations).toEqual([])
  })

  it('sends a network trace without a response code as a valid trace', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' })
    const scope = scopeOf(telemeter)
    scope.reportTrace({ type: 'network', name: 'GET /stream', metrics: { response_time: 12 } })
    await telemeter.flush()
    expect(server.traces({ deviceId }).map((t) => t.metrics)).toEqual([
      { response_time: 12, request_payload_size: 0, response_payload_size: 0 },
    ])
    expect(server.violations).toEqual([])
  })
})
