import { describe, expect, it } from 'vitest'
import type { TelemeterConfig } from '../types.js'
import { resolveConfig, TelemeterConfigError } from './config.js'

const fieldOf = (fn: () => unknown): string | undefined => {
  try {
    fn()
  } catch (error) {
    if (error instanceof TelemeterConfigError) return error.field
    throw error
  }
  return undefined
}

describe('resolveConfig', () => {
  it('names the field at fault', () => {
    expect(fieldOf(() => resolveConfig({ appKey: 'K' } as TelemeterConfig, false))).toBe('url')
    expect(fieldOf(() => resolveConfig({ url: 'not a url', appKey: 'K' }, false))).toBe('url')
    expect(fieldOf(() => resolveConfig({ url: 'ftp://x', appKey: 'K' }, false))).toBe('url')
    expect(fieldOf(() => resolveConfig({ url: 'http://x' } as TelemeterConfig, false))).toBe('appKey')
    expect(fieldOf(() => resolveConfig({ url: 'http://x', appKey: ' ' }, false))).toBe('appKey')
    expect(fieldOf(() => resolveConfig({ url: 'http://x', appKey: 'K', flushIntervalMs: -1 }, false))).toBe(
      'flushIntervalMs',
    )
    expect(
      fieldOf(() => resolveConfig({ url: 'http://x', appKey: 'K', storage: 'disk' as 'file' }, false)),
    ).toBe('storage')
  })

  it('accepts a missing url and appKey when disabled', () => {
    expect(fieldOf(() => resolveConfig({} as TelemeterConfig, true))).toBeUndefined()
  })

  it('fills defaults and freezes the result', () => {
    const config = resolveConfig({ url: 'https://c.example.com/countly/', appKey: ' K ' }, false)
    expect(config.appKey).toBe('K')
    expect(config.url.pathname).toBe('/countly/')
    expect(config.flushIntervalMs).toBe(500)
    expect(config.bulkSize).toBe(50)
    expect(config.maxEventsPerRequest).toBe(100)
    expect(config.limits.keyLength).toBe(128)
    expect(Object.isFrozen(config)).toBe(true)
  })
})
