import { afterEach, describe, expect, it, vi } from 'vitest'
import { createTelemeter } from '../../src/index.js'
import { captureLogger, testServer } from '../helpers.js'
import { freshStoragePath, productionConfig } from './support.js'

afterEach(() => {
  vi.unstubAllEnvs()
  vi.restoreAllMocks()
})

const PREFIX = "[telemeter] payload (not sent, debug: 'print'): "

/** The request parameters printed instead of sent. */
function printed(lines: string[]): Record<string, unknown>[] {
  return lines
    .filter((line) => line.startsWith(PREFIX))
    .map((line) => JSON.parse(line.slice(PREFIX.length)) as Record<string, unknown>)
}

describe('print mode', () => {
  it('TELEMETER_DEBUG=1 prints every payload as it would be sent and sends nothing, fetches included', async () => {
    vi.stubEnv('TELEMETER_DEBUG', '1')
    const server = await testServer({ remoteConfig: { dark_mode: true } })
    const logger = captureLogger()
    const telemeter = createTelemeter({
      ...productionConfig(server, await freshStoragePath()),
      storage: 'memory',
      appVersion: '2.0.0',
      debug: logger,
    })
    const user = telemeter.forDevice('user-1')
    user.event('report.created', { count: 2, segmentation: { format: 'pdf' } })
    user.captureError(new Error('disk full'))
    expect(await user.fetchRemoteConfig()).toEqual({})
    await telemeter.flush()
    await telemeter.shutdown()

    expect(server.connections).toBe(0)
    const payloads = printed(logger.lines.map((line) => line.message))
    const forUser = payloads.filter((payload) => payload.device_id === 'user-1')
    expect(forUser).toEqual([
      expect.objectContaining({
        app_key: 'TEST_APP_KEY',
        events: [
          expect.objectContaining({ key: 'report.created', count: 2, segmentation: { format: 'pdf' } }),
        ],
      }),
      expect.objectContaining({
        crash: expect.objectContaining({
          _error: expect.stringContaining('disk full'),
          _app_version: '2.0.0',
        }),
      }),
    ])
    // The automatic session of the instance's own device is printed too.
    expect(payloads.filter((payload) => payload.begin_session === 1)).toHaveLength(1)
    expect(payloads.filter((payload) => payload.end_session === 1)).toHaveLength(1)
    expect(telemeter.status()).toMatchObject({ enabled: true, printOnly: true })
    expect(telemeter.stats()).toMatchObject({ queued: 0, sent: 0 })
  })

  it("debug: 'print' does the same through console", async () => {
    const server = await testServer()
    const info = vi.spyOn(console, 'info').mockImplementation(() => {})
    const telemeter = createTelemeter({
      ...productionConfig(server, await freshStoragePath()),
      storage: 'memory',
      sessions: 'manual',
      debug: 'print',
    })
    telemeter.forDevice('user-1').event('printed')
    await telemeter.flush()
    await telemeter.shutdown()
    expect(server.connections).toBe(0)
    const payloads = printed(info.mock.calls.map((call) => String(call[0])))
    expect(payloads).toEqual([
      expect.objectContaining({ device_id: 'user-1', events: [expect.objectContaining({ key: 'printed' })] }),
    ])
  })
})
