import { describe, expect, it } from 'vitest'
import type { DeviceScope, Telemeter } from '../../src/index.js'
import { setup, sleep } from '../helpers.js'
import { actionOf, itemsOf } from './support.js'

describe.each([
  ['the Telemeter', (telemeter: Telemeter) => telemeter as DeviceScope, 'own'],
  ['a forDevice scope', (telemeter: Telemeter) => telemeter.forDevice('user-1'), 'user-1'],
])('views on %s', (_label, scopeOf, deviceId) => {
  it('sends visits with start for the first view of a session and the previous view duration', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' }, { sessionCooldownS: 0 })
    const scope = scopeOf(telemeter)
    scope.beginSession()
    scope.view('home', { from: 'nav', visit: 0, start: 0 } as Record<string, unknown>)
    // At least a second, so the reported duration is at least 1 (a lower bound, never flaky).
    await sleep(1_100)
    scope.view('settings/users')
    scope.endSession()
    await telemeter.flush()

    const views = server.events({ key: '[CLY]_view', deviceId })
    expect(views.map((v) => [v.name, v.segmentation])).toEqual([
      ['home', { name: 'home', visit: 1, start: 1, segment: 'Linux', from: 'nav' }],
      ['home', { name: 'home', segment: 'Linux' }],
      ['settings/users', { name: 'settings/users', visit: 1, segment: 'Linux' }],
      ['settings/users', { name: 'settings/users', segment: 'Linux' }],
    ])
    expect(views[0]!.dur).toBeUndefined()
    expect(views[1]!.dur).toBeGreaterThanOrEqual(1)
    expect(views[3]!.dur).toBeGreaterThanOrEqual(0)
    expect(server.user(deviceId)).toMatchObject({ vc: 2, lv: 'settings/users' })
    // The last view's duration goes out before the session end.
    const actions = itemsOf(server, deviceId).map((item) => actionOf(item.params))
    expect(actions[0]).toBe('begin')
    expect(actions.at(-1)).toBe('end')
    expect(actions.slice(1, -1).every((action) => action.startsWith('events:[CLY]_view'))).toBe(true)

    scope.beginSession()
    scope.view('home')
    scope.view('home')
    await telemeter.flush()
    const again = server.events({ key: '[CLY]_view', deviceId }).slice(4)
    expect(again.map((v) => v.segmentation)).toEqual([
      { name: 'home', visit: 1, start: 1, segment: 'Linux' },
      { name: 'home', segment: 'Linux' },
      { name: 'home', visit: 1, segment: 'Linux' },
    ])
    expect(server.violations).toEqual([])
  })

  it('refuses invalid names and reserved segmentation keys with a warning', async () => {
    const { server, telemeter, logger } = await setup({ deviceId: 'own' })
    const scope = scopeOf(telemeter)
    for (const name of ['', '   ', null, {}, '[CLY]_view']) {
      expect(() => scope.view(name as string)).not.toThrow()
    }
    scope.view('ok', { dur: 100000000000, exit: 1, bounce: 1, $x: 1, 'a.b': 2, kept: 'yes' })
    await telemeter.flush()
    expect(server.events({ key: '[CLY]_view', deviceId }).map((v) => v.segmentation)).toEqual([
      { name: 'ok', visit: 1, start: 1, segment: 'Linux', kept: 'yes' },
    ])
    const warnings = logger.warnings().join('\n')
    expect(warnings).toContain('view name must be a non-empty string')
    expect(warnings).toContain('view segmentation key "dur" is reserved')
    expect(warnings).toContain('view segmentation key "exit" is reserved')
    expect(server.violations).toEqual([])
  })

  it('reports the last view duration under the old id when the device id changes without merge', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' }, { sessionCooldownS: 0 })
    await telemeter.flush()
    const scope = scopeOf(telemeter)
    scope.view('before-change')
    scope.changeDeviceId(`${deviceId}-next`, { merge: false })
    scope.view('after-change')
    await telemeter.flush()
    expect(server.events({ key: '[CLY]_view', deviceId }).map((v) => v.segmentation)).toEqual([
      { name: 'before-change', visit: 1, start: 1, segment: 'Linux' },
      { name: 'before-change', segment: 'Linux' },
    ])
    expect(
      server.events({ key: '[CLY]_view', deviceId: `${deviceId}-next` }).map((v) => v.segmentation),
    ).toEqual([{ name: 'after-change', visit: 1, start: 1, segment: 'Linux' }])
    expect(server.violations).toEqual([])
  })
})
