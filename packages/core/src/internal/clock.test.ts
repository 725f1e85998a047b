import { describe, expect, it } from 'vitest'
import { Clock } from './clock.js'

describe('Clock', () => {
  it('gives unique, increasing 13-digit timestamps even within one millisecond', () => {
    const clock = new Clock(() => 1_700_000_000_000)
    const stamps = Array.from({ length: 5 }, () => clock.uniqueTimestamp())
    expect(stamps).toEqual([
      1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_002, 1_700_000_000_003, 1_700_000_000_004,
    ])
    expect(String(stamps[0]).length).toBe(13)
  })

  it('computes hour, dow and tz like Date does', () => {
    const clock = new Clock()
    const ts = Date.UTC(2026, 10, 22, 13, 30)
    const date = new Date(ts)
    expect(clock.fields(ts)).toEqual({
      timestamp: ts,
      hour: date.getHours(),
      dow: date.getDay(),
      tz: 0 - date.getTimezoneOffset() || 0,
    })
    const later = ts + 3 * 3_600_000
    expect(clock.hourOf(later)).toBe(new Date(later).getHours())
    expect(clock.hourOf(ts)).toBe(date.getHours())
  })
})

describe('Clock with timestamps of two hours', () => {
  it('answers both hours correctly however they alternate', () => {
    const clock = new Clock()
    const now = Date.UTC(2026, 10, 22, 13, 30)
    const before = now - 2 * 3_600_000
    for (let i = 0; i < 5; i++) {
      expect(clock.hourOf(now)).toBe(new Date(now).getHours())
      expect(clock.hourOf(before)).toBe(new Date(before).getHours())
      expect(clock.dowOf(before)).toBe(new Date(before).getDay())
    }
  })
})
