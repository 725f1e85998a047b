import { describe, expect, it } from 'vitest'
import type { Logger } from '../types.js'
import { DEFAULT_LIMITS } from './config.js'
import { TelemeterLogger } from './logger.js'
import { cleanDeviceId, Sanitizer } from './sanitize.js'

function setup() {
  const warnings: string[] = []
  const sink: Logger = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} }
  return { sanitizer: new Sanitizer(DEFAULT_LIMITS, new TelemeterLogger(sink, false)), warnings }
}

describe('Sanitizer', () => {
  it('keeps valid segmentation untouched', () => {
    const { sanitizer, warnings } = setup()
    const segmentation = { plan: 'pro', seats: 3, trial: false, tags: ['a', 1, true] }
    expect(sanitizer.segmentation(segmentation)).toEqual(segmentation)
    expect(warnings).toEqual([])
  })

  it('removes reserved and unsafe keys and values, warning once per cause', () => {
    const { sanitizer, warnings } = setup()
    const dirty = {
      $bad: 1,
      'a.b': 2,
      ok: 1,
      nested: { x: 1 },
      nan: Number.NaN,
      inf: Infinity,
      nil: null,
      fn: () => 1,
    }
    expect(sanitizer.segmentation(dirty)).toEqual({ ok: 1 })
    expect(sanitizer.segmentation(dirty)).toEqual({ ok: 1 })
    expect(warnings.length).toBe(7)
    expect(sanitizer.segmentation(JSON.parse('{"__proto__":1,"constructor":2,"fine":3}'))).toEqual({
      fine: 3,
    })
  })

  it('truncates long values, long keys, arrays, and the number of entries', () => {
    const { sanitizer } = setup()
    const many = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`k${i}`, i]))
    expect(Object.keys(sanitizer.segmentation(many)!).length).toBe(100)
    const result = sanitizer.segmentation({
      ['k'.repeat(200)]: 'v'.repeat(300),
      arr: Array.from({ length: 15 }, (_, i) => i),
    })!
    expect(Object.keys(result)[0]!.length).toBe(128)
    expect((Object.values(result)[0] as string).length).toBe(256)
    expect((result.arr as number[]).length).toBe(10)
  })

  it('repairs invalid UTF-16 and never splits a surrogate pair', () => {
    const { sanitizer } = setup()
    expect(sanitizer.string('a\ud800b', 10, 'x')).toBe('a\ufffdb')
    const emoji = `${'x'.repeat(255)}😀`
    const cut = sanitizer.string(emoji, 256, 'x')
    expect(cut.isWellFormed()).toBe(true)
  })

  it('refuses bad keys and [CLY]_ keys', () => {
    const { sanitizer } = setup()
    expect(sanitizer.key('', 'event key')).toBeUndefined()
    expect(sanitizer.key(undefined, 'event key')).toBeUndefined()
    expect(sanitizer.key({}, 'event key')).toBeUndefined()
    expect(sanitizer.key('[CLY]_view', 'event key')).toBeUndefined()
    expect(sanitizer.key('[CLY]_view', 'event key', true)).toBe('[CLY]_view')
    expect(sanitizer.key(42, 'event key')).toBe('42')
  })

  it('normalises counts and numbers', () => {
    const { sanitizer } = setup()
    expect(sanitizer.count(undefined)).toBe(1)
    expect(sanitizer.count(2.6)).toBe(3)
    expect(sanitizer.count(-1)).toBe(1)
    expect(sanitizer.count('5')).toBe(1)
    expect(sanitizer.number(Number.POSITIVE_INFINITY, 'sum')).toBeUndefined()
    expect(sanitizer.number(9.99, 'sum')).toBe(9.99)
  })
})

describe('cleanDeviceId', () => {
  it('strips control characters, caps length and refuses empty or zero ids', () => {
    expect(cleanDeviceId('ab\u0000c\n', 256)).toBe('abc')
    expect(cleanDeviceId('x'.repeat(300), 256)!.length).toBe(256)
    expect(cleanDeviceId('   ', 256)).toBeUndefined()
    expect(cleanDeviceId('00000000-0000-0000-0000-000000000000', 256)).toBeUndefined()
    expect(cleanDeviceId(42, 256)).toBe('42')
    expect(cleanDeviceId({}, 256)).toBeUndefined()
  })
})
