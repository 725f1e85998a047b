import { createTelemeter } from '@telemeter/core'
import type { TestServer } from '@telemeter/testkit'
import { startTestServer } from '@telemeter/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRuntime } from './runtime.js'

describe('createRuntime', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({ appKey: 'RUNTIME' })
  })
  afterAll(async () => {
    await server.close()
  })

  it('gives deviceId and sessions to core or to the HTTP options by their type', async () => {
    const runtime = createRuntime({
      url: server.url,
      appKey: 'RUNTIME',
      storage: 'memory',
      deviceId: 'api-server-1',
      sessions: 'manual',
      sampleRate: 0.5,
      shutdownTimeoutMs: 750,
    })
    expect(runtime.owned).toBe(true)
    expect(runtime.telemeter.deviceId).toBe('api-server-1')
    expect(runtime.shutdownTimeoutMs).toBe(750)
    // 'manual': the process's own session is not begun.
    runtime.telemeter.event('probe')
    await runtime.telemeter.shutdown()
    expect(server.user('api-server-1')?.sc ?? 0).toBe(0)
    expect(server.events({ key: 'probe', deviceId: 'api-server-1' })).toHaveLength(1)

    const hooks = createRuntime({
      url: server.url,
      appKey: 'RUNTIME',
      storage: 'memory',
      deviceId: () => 'from-request',
      sessions: false,
    })
    const record = hooks.http.start({ headers: {} }, { method: 'GET', path: '/x', headers: {} })
    expect(record?.scope.deviceId).toBe('from-request')
    await hooks.telemeter.shutdown()
    expect(server.violations).toEqual([])
  })

  it('uses a Telemeter passed in, and does not own it', async () => {
    const telemeter = createTelemeter({ url: server.url, appKey: 'RUNTIME', storage: 'memory' })
    const runtime = createRuntime({ telemeter, shutdownTimeoutMs: -5 })
    expect(runtime.telemeter).toBe(telemeter)
    expect(runtime.owned).toBe(false)
    expect(runtime.shutdownTimeoutMs).toBe(2_000)
    await telemeter.shutdown()
  })
})
