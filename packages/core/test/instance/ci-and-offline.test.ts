import { describe, expect, it, vi } from 'vitest'
import { ciDetected, INSTANCE_EVENTS } from '../../src/internal/instance-options.js'
import { instanceEvents, instanceSetup } from './support.js'

describe('CI', () => {
  it.each([
    ['1', true],
    ['true', true],
    ['woodpecker', true],
    ['', false],
    ['0', false],
    ['false', false],
    [undefined, false],
  ])('CI=%s is detected: %s', (value, detected) => {
    expect(ciDetected(value === undefined ? {} : { CI: value })).toBe(detected)
  })

  it('turns product telemetry off (and nothing else) unless trackCI is set', async () => {
    vi.stubEnv('CI', '1')
    const { server, telemeter, instance } = await instanceSetup()
    instance.count('report.created')
    instance.section('settings/users')
    instance.captureError(new Error('ci'))
    instance.resetInstanceId()
    telemeter.forDevice('user-1').event('app-event')
    await telemeter.flush()
    await telemeter.shutdown()
    expect(instance.instanceId).toBeUndefined()
    expect(instance.status()).toMatchObject({
      enabled: false,
      decidedBy: 'CI',
      reason: 'CI is set in the environment (pass trackCI: true to record product telemetry there)',
    })
    expect(telemeter.status()).toMatchObject({ enabled: true, decidedBy: 'default' })
    expect(server.events().map((event) => event.key)).toEqual(['app-event'])
    expect(server.crashes()).toEqual([])
  })

  it('trackCI: true records in CI', async () => {
    vi.stubEnv('CI', 'true')
    const { server, telemeter, instance } = await instanceSetup({ instance: { trackCI: true } })
    await telemeter.flush()
    expect(instance.status()).toMatchObject({ enabled: true, decidedBy: 'default' })
    expect(instanceEvents(server, instance.instanceId, INSTANCE_EVENTS.start)).toHaveLength(1)
  })

  it('a kill switch decides before CI', async () => {
    vi.stubEnv('CI', '1')
    vi.stubEnv('DO_NOT_TRACK', '1')
    const { server, instance } = await instanceSetup()
    expect(instance.status()).toMatchObject({ enabled: false, decidedBy: 'DO_NOT_TRACK' })
    expect(server.connections).toBe(0)
  })
})

describe('never blocks the host', () => {
  it('offline: calls return at once, delivery backs off with one warning, shutdown keeps to its time limit', async () => {
    const { server, telemeter, instance, logger } = await instanceSetup({
      config: { retry: { baseDelayMs: 20, maxDelayMs: 50 } },
    })
    server.setFault({ type: 'down' })
    await telemeter.flush()
    for (let i = 0; i < 50; i++) instance.count('report.created')
    instance.captureError(new Error('offline'))
    await telemeter.flush()
    await telemeter.flush()
    expect(logger.warnings()).toEqual([
      expect.stringMatching(/^\[telemeter\] cannot deliver to 127\.0\.0\.1:\d+/),
    ])
    // Resolves: bounded by the timeout however unreachable the server is.
    await telemeter.shutdown({ timeoutMs: 100 })
    expect(logger.warnings().filter((line) => line.includes('cannot deliver'))).toHaveLength(1)
  })

  it('a hanging server does not hold shutdown past its timeout', async () => {
    const { server, telemeter, instance } = await instanceSetup({ config: { requestTimeoutMs: 10_000 } })
    await telemeter.flush()
    server.setFault({ type: 'hang' })
    instance.captureError(new Error('in flight when shutting down'))
    await telemeter.shutdown({ timeoutMs: 100 })
    expect(telemeter.stats().queued).toBe(0) // memory storage: dropped and counted, not waited for
    expect(telemeter.stats().dropped).toBeGreaterThan(0)
  })
})
