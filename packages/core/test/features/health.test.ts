import { describe, expect, it } from 'vitest'
import { setup } from '../helpers.js'
import { ingestRequests, paramsWith } from './support.js'

describe('SDK health (hc)', () => {
  it('reports error and warning counts, the last status code and the last error message', async () => {
    const { server, telemeter, logger } = await setup({ deviceId: 'own' })
    telemeter.event('' as string)
    telemeter.event('ok', { segmentation: { $bad: 1 } })
    server.setFault({ type: 'status', status: 500, times: 1, match: (request) => request.endpoint === '/i' })
    await server.waitFor((s) => s.events({ key: 'ok' }).length === 1)
    server.setFault({
      type: 'status',
      status: 503,
      times: 1,
      match: (request) => request.endpoint === '/o/sdk',
    })
    await telemeter.fetchRemoteConfig()
    await telemeter.shutdown()

    const [params] = paramsWith(server, 'own', 'hc')
    expect(params?.hc).toEqual({ el: 2, wl: 4, sc: 200, em: 'unexpected answer (HTTP 503)' })
    expect(logger.warnings()).toEqual([
      '[telemeter] event key must be a non-empty string; dropped',
      '[telemeter] event segmentation key "$bad" is reserved or would be rewritten by the server; removed',
      expect.stringContaining('(HTTP 500: Server error); queued data is kept and retried'),
      '[telemeter] remote config could not be fetched (unexpected answer (HTTP 503)); cached values are used',
    ])
    expect(server.user('own')?.hc).toEqual(params?.hc)
    expect(paramsWith(server, 'own', 'hc')).toHaveLength(1)
    expect(server.violations).toEqual([])
  })

  it('keeps the last status and message of a failure the SDK did not recover from', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' })
    server.setFault({ type: 'reject', message: 'App does not exist', times: 1 })
    telemeter.event('doomed')
    await telemeter.flush()
    await telemeter.shutdown()
    expect(server.user('own')?.hc).toEqual({ el: 1, wl: 1, sc: 400, em: 'HTTP 400: App does not exist' })
    expect(server.violations).toEqual([])
  })

  it('sends nothing while consent is required and none was given', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own', requireConsent: true })
    telemeter.event('' as string)
    telemeter.event('refused')
    await telemeter.shutdown()
    expect(ingestRequests(server)).toEqual([])
    expect(server.violations).toEqual([])
  })
})
