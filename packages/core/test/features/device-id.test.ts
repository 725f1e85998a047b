import { describe, expect, it } from 'vitest'
import type { DeviceScope, Telemeter } from '../../src/index.js'
import { setup, tempDir, testServer } from '../helpers.js'
import { actionOf, fileTelemeter, itemsOf, paramsWith } from './support.js'

describe.each([
  ['the Telemeter', (telemeter: Telemeter) => telemeter as DeviceScope, 'anon'],
  ['a forDevice scope', (telemeter: Telemeter) => telemeter.forDevice('anon-2'), 'anon-2'],
])('changeDeviceId on %s', (_label, scopeOf, oldId) => {
  it('merge: true sends old_device_id under the new id, the server merges, the session goes on', async () => {
    const { server, telemeter } = await setup({ deviceId: 'anon' }, { sessionCooldownS: 0 })
    await telemeter.flush()
    const scope = scopeOf(telemeter)
    scope.beginSession()
    scope.event('before')
    scope.changeDeviceId('user-1', { merge: true })
    expect(scope.deviceId).toBe('user-1')
    scope.event('after')
    scope.endSession()
    await telemeter.flush()

    expect(itemsOf(server, oldId).map((item) => actionOf(item.params))).toEqual(['begin', 'events:before'])
    const merged = itemsOf(server, 'user-1')
    expect(merged.map((item) => actionOf(item.params))).toEqual(['merge', 'events:after', 'end'])
    expect(merged[0]!.params).toMatchObject({ device_id: 'user-1', old_device_id: oldId })
    expect(Number(merged[0]!.params.t)).toBe(0)
    expect(server.user(oldId)).toBeUndefined()
    expect(server.user('user-1')).toMatchObject({ merged_ids: [oldId], sc: 1, hos: false })
    expect(server.events({ key: '[CLY]_session_begin' })).toHaveLength(1)
    expect(server.violations).toEqual([])
  })

  it('merge: false flushes the old id, ends its session, clears timed events, and begins a new session', async () => {
    const { server, telemeter, logger } = await setup({ deviceId: 'anon' }, { sessionCooldownS: 0 })
    await telemeter.flush()
    const scope = scopeOf(telemeter)
    scope.beginSession()
    scope.startEvent('checkout')
    scope.event('pending-before-change')
    scope.addBreadcrumb('old person')
    scope.changeDeviceId('someone-else', { merge: false })
    expect(scope.deviceId).toBe('someone-else')
    scope.endEvent('checkout')
    scope.captureError(new Error('new person'))
    await telemeter.flush()

    expect(itemsOf(server, oldId).map((item) => actionOf(item.params))).toEqual([
      'begin',
      'events:pending-before-change',
      'end',
    ])
    expect(itemsOf(server, 'someone-else').map((item) => actionOf(item.params))).toEqual(['begin', 'crash'])
    expect(paramsWith(server, 'someone-else', 'old_device_id')).toEqual([])
    expect(server.user(oldId)).toMatchObject({ sc: 1, hos: false })
    expect(server.user('someone-else')).toMatchObject({ sc: 1, hos: true, merged_ids: [] })
    expect(server.events({ key: 'checkout' })).toEqual([])
    expect(logger.warnings().join('\n')).toContain('endEvent("checkout") without startEvent')
    expect(server.crashes('someone-else')[0]?.logs).toBeUndefined()
    expect(server.violations).toEqual([])
  })

  it('merge: false clears consent when consent is required; merge: true keeps it', async () => {
    const { server, telemeter } = await setup({ deviceId: 'anon', requireConsent: true })
    await telemeter.flush()
    const scope = scopeOf(telemeter)
    scope.giveConsent('events')
    scope.changeDeviceId('merged', { merge: true })
    scope.event('kept-consent')
    scope.changeDeviceId('stranger', { merge: false })
    expect(scope.hasConsent('events')).toBe(false)
    scope.event('no-consent-yet')
    await telemeter.flush()
    expect(server.events({ key: 'kept-consent', deviceId: 'merged' })).toHaveLength(1)
    expect(server.events({ key: 'no-consent-yet' })).toEqual([])
    expect(server.user('merged')?.consent).toEqual({ events: true })
    expect(server.user('stranger')).toBeUndefined()
    expect(server.violations).toEqual([])
  })

  it('does nothing for the same id or an invalid one', async () => {
    const { server, telemeter, logger } = await setup({ deviceId: 'anon' })
    await telemeter.flush()
    const scope = scopeOf(telemeter)
    scope.beginSession()
    await telemeter.flush()
    const before = server.items.length
    scope.changeDeviceId(oldId, { merge: true })
    scope.changeDeviceId(oldId, { merge: false })
    scope.changeDeviceId('', { merge: true })
    scope.changeDeviceId(null as unknown as string, { merge: false })
    await telemeter.flush()
    expect(server.items.length).toBe(before)
    expect(scope.deviceId).toBe(oldId)
    expect(logger.warnings().join('\n')).toContain('changeDeviceId needs a non-empty string id')
    expect(server.violations).toEqual([])
  })
})

describe('device-id persistence', () => {
  it('keeps a changed instance id across restarts, reported as developer-supplied (t=0)', async () => {
    const server = await testServer()
    const dir = await tempDir()
    const first = fileTelemeter(server, dir).telemeter
    first.event('as-generated')
    await first.flush()
    const generated = first.deviceId
    expect(generated).toMatch(/^[0-9a-f-]{36}$/)
    expect(Number(itemsOf(server, generated)[0]!.params.t)).toBe(1)
    first.changeDeviceId('user-9', { merge: true })
    first.event('as-user')
    await first.shutdown()

    const { telemeter: second } = fileTelemeter(server, dir)
    second.event('after-restart')
    await second.flush()
    expect(second.deviceId).toBe('user-9')
    const actions = itemsOf(server, 'user-9').map((item) => [actionOf(item.params), Number(item.params.t)])
    expect(actions.filter(([action]) => action !== 'hc')).toEqual([
      ['merge', 0],
      ['events:as-user', 0],
      ['events:after-restart', 0],
    ])
    expect(server.user('user-9')?.merged_ids).toEqual([generated])
    expect(server.violations).toEqual([])
  })
})
