import { describe, expect, it } from 'vitest'
import type { DeviceScope, Telemeter } from '../../src/index.js'
import { setup } from '../helpers.js'
import { paramsWith } from './support.js'

describe.each([
  ['the Telemeter', (telemeter: Telemeter) => telemeter as DeviceScope, 'own'],
  ['a forDevice scope', (telemeter: Telemeter) => telemeter.forDevice('user-1'), 'user-1'],
])('user profiles on %s', (_label, scopeOf, deviceId) => {
  it('sets every standard field and custom properties', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' })
    const scope = scopeOf(telemeter)
    scope.setUserDetails({
      name: 'Ada Lovelace',
      username: 'ada',
      email: 'ada@example.com',
      organization: 'Analytical Engines',
      phone: '+44 20 0000 0000',
      picture: `https://example.com/${'p'.repeat(3000)}.png`,
      gender: 'F',
      byear: 1990,
      custom: { plan: 'pro', seats: 12, beta: true },
    })
    await telemeter.flush()
    const [params] = paramsWith(server, deviceId, 'user_details')
    expect(params?.user_details).toEqual({
      name: 'Ada Lovelace',
      username: 'ada',
      email: 'ada@example.com',
      organization: 'Analytical Engines',
      phone: '+44 20 0000 0000',
      picture: `https://example.com/${'p'.repeat(3000)}.png`,
      gender: 'F',
      byear: 1990,
      custom: { plan: 'pro', seats: 12, beta: true },
    })
    expect(server.user(deviceId)).toMatchObject({
      name: 'Ada Lovelace',
      username: 'ada',
      email: 'ada@example.com',
      organization: 'Analytical Engines',
      phone: '+44 20 0000 0000',
      picture: `https://example.com/${'p'.repeat(3000)}.png`,
      gender: 'F',
      byear: 1990,
      custom: { plan: 'pro', seats: 12, beta: true },
    })
    expect(server.violations).toEqual([])
  })

  it('turns every userData operation into the server $-operators', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own' })
    const { userData } = scopeOf(telemeter)
    userData.set('plan', 'pro')
    userData.set('m', 3)
    userData.setOnce('first_seen', '2024-01-01')
    userData.increment('logins')
    userData.incrementBy('points', 5)
    userData.incrementBy('points', 2.5)
    userData.max('high', 10)
    userData.min('low', 10)
    userData.push('tags', ['a', 'b'])
    userData.push('tags', 'c')
    userData.pushUnique('unique', ['x', 'x', 'y'])
    userData.set('gone', 'soon')
    userData.save()
    await telemeter.flush()
    expect(paramsWith(server, deviceId, 'user_details')[0]?.user_details).toEqual({
      custom: {
        plan: 'pro',
        m: 3,
        first_seen: { $setOnce: '2024-01-01' },
        logins: { $inc: 1 },
        points: { $inc: 7.5 },
        high: { $max: 10 },
        low: { $min: 10 },
        tags: { $push: ['a', 'b', 'c'] },
        unique: { $addToSet: ['x', 'x', 'y'] },
        gone: 'soon',
      },
    })

    userData.setOnce('first_seen', '2025-06-30')
    userData.increment('logins')
    userData.multiply('m', 4)
    userData.max('high', 5)
    userData.max('high', 7)
    userData.min('low', 3)
    userData.pushUnique('unique', ['y', 'z'])
    userData.pull('tags', ['a', 'c'])
    userData.unset('gone')
    userData.save()
    userData.save()
    await telemeter.flush()
    expect(paramsWith(server, deviceId, 'user_details')).toHaveLength(2)
    expect(paramsWith(server, deviceId, 'user_details')[1]?.user_details).toEqual({
      custom: {
        first_seen: { $setOnce: '2025-06-30' },
        logins: { $inc: 1 },
        m: { $mul: 4 },
        high: { $max: 7 },
        low: { $min: 3 },
        unique: { $addToSet: ['y', 'z'] },
        tags: { $pull: ['a', 'c'] },
        gone: '',
      },
    })
    expect(server.user(deviceId)?.custom).toEqual({
      plan: 'pro',
      m: 12,
      first_seen: '2024-01-01',
      logins: 2,
      points: 7.5,
      high: 10,
      low: 3,
      tags: ['b'],
      unique: ['x', 'y', 'z'],
    })
    expect(server.violations).toEqual([])
  })

  it('refuses prototype-polluting, $-prefixed and dotted keys and invalid values with warnings', async () => {
    const { server, telemeter, logger } = await setup({ deviceId: 'own' })
    const scope = scopeOf(telemeter)
    const { userData } = scope
    const calls: (() => void)[] = [
      () => userData.set('__proto__', 1),
      () => userData.set('constructor', 1),
      () => userData.increment('prototype'),
      () => userData.push('$where', 'x'),
      () => userData.set('a.b', 1),
      () => userData.set('', 1),
      () => userData.set('obj', { nested: true } as unknown as string),
      () => userData.incrementBy('n', Number.NaN),
      () => userData.multiply('n', '2' as unknown as number),
      () => userData.push('list', [{}, null] as unknown as string[]),
      () => userData.set('ok', 'yes'),
      () => userData.save(),
      () =>
        scope.setUserDetails({
          ...(JSON.parse('{"__proto__": {"polluted": true}}') as object),
          name: 42 as unknown as string,
          gender: 'X' as 'M',
          byear: 'nineteen' as unknown as number,
          picture: {} as unknown as string,
          unknown_field: 'x',
          email: 'kept@example.com',
          custom: JSON.parse('{"__proto__": 1, "constructor": 2, "$set": 3, "kept": "yes", "bad": {"a": 1}}'),
        } as never),
      () => scope.setUserDetails(null as never),
      () => scope.setUserDetails('name' as never),
    ]
    for (const call of calls) expect(call).not.toThrow()
    await telemeter.flush()

    const sent = paramsWith(server, deviceId, 'user_details').map((p) => p.user_details)
    expect(sent).toEqual([{ custom: { ok: 'yes' } }, { email: 'kept@example.com', custom: { kept: 'yes' } }])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(server.user(deviceId)?.custom).toEqual({ ok: 'yes', kept: 'yes' })
    const warnings = logger.warnings().join('\n')
    for (const fragment of [
      'user property key "__proto__" is not allowed',
      'user property key "constructor" is not allowed',
      'user property key "prototype" is not allowed',
      'user property key "$where" is not allowed',
      'user property key "a.b" is not allowed',
      'needs a non-empty string key',
      'userData.set must be a string, finite number or boolean',
      'userData.incrementBy needs a finite number',
      'userData.multiply needs a finite number',
      'name must be a string',
      'gender must be "M" or "F"',
      'byear must be a birth year from 1900 to this year',
      'picture must be a URL string',
      'unknown field "unknown_field"',
      'user property key "$set" is not allowed',
      'custom.bad must be a string, finite number or boolean',
      'setUserDetails needs an object',
    ]) {
      expect(warnings).toContain(fragment)
    }
    expect(server.violations).toEqual([])
  })
})
