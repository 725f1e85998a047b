import { describe, expect, it } from 'vitest'
import type { DeviceScope, Telemeter } from '../../src/index.js'
import { setup, tempDir, testServer } from '../helpers.js'
import { fileTelemeter, sdkRequests } from './support.js'

const VALUES = { dark_mode: true, banner: 'spring', limit: 10 }

describe.each([
  ['the Telemeter', (telemeter: Telemeter) => telemeter as DeviceScope, 'own'],
  ['a forDevice scope', (telemeter: Telemeter) => telemeter.forDevice('user-1'), 'user-1'],
])('remote config on %s', (_label, scopeOf, deviceId) => {
  it('fetches everything with /o/sdk?method=rc and the metrics, and serves the cache', async () => {
    const { server, telemeter } = await setup(
      { deviceId: 'own', appVersion: '2.1.0' },
      { remoteConfig: VALUES },
    )
    const scope = scopeOf(telemeter)
    expect(await scope.fetchRemoteConfig()).toEqual(VALUES)
    const [request] = sdkRequests(server, 'rc')
    expect(request?.method).toBe('GET')
    expect(request?.query).toMatchObject({
      method: 'rc',
      app_key: 'TEST_APP_KEY',
      device_id: deviceId,
      av: '2.1.0',
      sdk_name: 'telemeter-node',
    })
    expect(request?.query.keys).toBeUndefined()
    expect(request?.query.omit_keys).toBeUndefined()
    expect(JSON.parse(String(request?.query.metrics))).toMatchObject({
      _os: 'Linux',
      _app_version: '2.1.0',
      _os_version: expect.any(String),
    })
    expect(request?.status).toBe(200)
    expect(scope.getRemoteConfig()).toEqual(VALUES)
    expect(scope.getRemoteConfig('banner')).toBe('spring')
    expect(scope.getRemoteConfig('missing')).toBeUndefined()
    expect(scope.getRemoteConfig('__proto__')).toBeUndefined()
    // The cache is a copy: changing what was returned changes nothing.
    ;(scope.getRemoteConfig() as Record<string, unknown>).banner = 'changed'
    expect(scope.getRemoteConfig('banner')).toBe('spring')
    expect(server.violations).toEqual([])
  })

  it('merges a keyed fetch, keeps omitted keys on an omit_keys fetch, and replaces on a full fetch', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' }, { remoteConfig: VALUES })
    const scope = scopeOf(telemeter)
    await scope.fetchRemoteConfig()
    server.setRemoteConfig({ dark_mode: false, banner: 'summer', limit: 20, extra: 1 })

    expect(await scope.fetchRemoteConfig({ keys: ['banner'] })).toEqual({ ...VALUES, banner: 'summer' })
    expect(sdkRequests(server, 'rc')[1]?.query.keys).toBe('["banner"]')

    expect(await scope.fetchRemoteConfig({ omitKeys: ['limit', 'extra'] })).toEqual({
      dark_mode: false,
      banner: 'summer',
      limit: 10,
    })
    expect(sdkRequests(server, 'rc')[2]?.query.omit_keys).toBe('["limit","extra"]')

    server.setRemoteConfig({ only: 'this' })
    expect(await scope.fetchRemoteConfig()).toEqual({ only: 'this' })
    expect(scope.getRemoteConfig()).toEqual({ only: 'this' })
    expect(scope.getRemoteConfig('banner')).toBeUndefined()
    expect(server.violations).toEqual([])
  })

  it('serves the cache when the server is unreachable or answers with an error', async () => {
    const { server, telemeter, logger } = await setup({ deviceId: 'own' }, { remoteConfig: VALUES })
    const scope = scopeOf(telemeter)
    await scope.fetchRemoteConfig()
    server.setFault({ type: 'down' })
    expect(await scope.fetchRemoteConfig()).toEqual(VALUES)
    server.setFault({ type: 'status', status: 500 })
    expect(await scope.fetchRemoteConfig({ keys: ['banner'] })).toEqual(VALUES)
    server.setFault({ type: 'non-json' })
    expect(await scope.fetchRemoteConfig()).toEqual(VALUES)
    expect(scope.getRemoteConfig()).toEqual(VALUES)
    expect(logger.warnings().some((line) => line.includes('remote config could not be fetched'))).toBe(true)
    server.setFault(null)
    expect(server.violations).toEqual([])
  })

  it('is consent-gated: nothing fetched or served without remote-config consent', async () => {
    const { server, telemeter } = await setup(
      { deviceId: 'own', requireConsent: true },
      { remoteConfig: VALUES },
    )
    await telemeter.flush()
    const scope = scopeOf(telemeter)
    expect(await scope.fetchRemoteConfig()).toEqual({})
    expect(sdkRequests(server, 'rc')).toEqual([])
    scope.giveConsent('remote-config')
    expect(await scope.fetchRemoteConfig()).toEqual(VALUES)
    scope.removeConsent('remote-config')
    expect(scope.getRemoteConfig()).toEqual({})
    expect(scope.getRemoteConfig('banner')).toBeUndefined()
    scope.giveConsent('remote-config')
    // Removing consent cleared the cache, it is not merely hidden.
    expect(scope.getRemoteConfig()).toEqual({})
    expect(sdkRequests(server, 'rc')).toHaveLength(1)
    expect(server.violations).toEqual([])
  })

  it('is cleared on a device-id change', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' }, { remoteConfig: VALUES })
    const scope = scopeOf(telemeter)
    await scope.fetchRemoteConfig()
    scope.changeDeviceId(`${deviceId}-new`, { merge: true })
    expect(scope.getRemoteConfig()).toEqual({})
    await telemeter.flush()
    expect(sdkRequests(server, 'rc')).toHaveLength(1)
    expect(server.violations).toEqual([])
  })
})

describe('remote config: automatic fetch and persistence', () => {
  it('with auto: fetches on start, and clears and re-fetches for the new id after a device-id change', async () => {
    const server = await testServer({ remoteConfig: VALUES })
    const { telemeter } = fileTelemeter(server, await tempDir(), {
      deviceId: 'anon',
      remoteConfig: { auto: true },
    })
    await server.waitFor((s) => sdkRequests(s, 'rc').length === 1)
    await telemeter.flush()
    expect(sdkRequests(server, 'rc')[0]?.query.device_id).toBe('anon')
    await server.waitFor(() => telemeter.getRemoteConfig('banner') === 'spring')

    server.setRemoteConfig({ banner: 'for-users' })
    telemeter.changeDeviceId('user-7', { merge: false })
    expect(telemeter.getRemoteConfig()).toEqual({})
    await server.waitFor((s) => sdkRequests(s, 'rc').length === 2)
    expect(sdkRequests(server, 'rc')[1]?.query.device_id).toBe('user-7')
    await server.waitFor(() => telemeter.getRemoteConfig('banner') === 'for-users')
    expect(telemeter.getRemoteConfig()).toEqual({ banner: 'for-users' })

    const scope = telemeter.forDevice('anon-2')
    scope.changeDeviceId('user-8', { merge: true })
    await server.waitFor((s) => sdkRequests(s, 'rc').some((r) => r.query.device_id === 'user-8'))
    await server.waitFor(() => scope.getRemoteConfig('banner') === 'for-users')
    expect(server.violations).toEqual([])
  })

  it('keeps the cache of the instance device across restarts and serves it while the server is down', async () => {
    const server = await testServer({ remoteConfig: VALUES })
    const dir = await tempDir()
    const first = fileTelemeter(server, dir, { deviceId: 'own' }).telemeter
    await first.fetchRemoteConfig()
    await first.shutdown()

    server.setFault({ type: 'down' })
    const { telemeter: second } = fileTelemeter(server, dir, { deviceId: 'own' })
    expect(await second.fetchRemoteConfig()).toEqual(VALUES)
    expect(second.getRemoteConfig('dark_mode')).toBe(true)
    server.setFault(null)
    expect(server.violations).toEqual([])
  })

  it('never throws and never rejects on bad input', async () => {
    const { server, telemeter, logger } = await setup({ deviceId: 'own' }, { remoteConfig: VALUES })
    const bad = [null, 42, { keys: 'banner' }, { keys: [1, null, ''] }, { omitKeys: {} }] as unknown[]
    for (const options of bad) {
      expect(await telemeter.fetchRemoteConfig(options as never)).toEqual(VALUES)
    }
    expect(telemeter.getRemoteConfig(42 as unknown as string)).toBeUndefined()
    expect(logger.warnings().some((line) => line.includes('must be an array of strings'))).toBe(true)
    expect(server.violations).toEqual([])
  })
})
