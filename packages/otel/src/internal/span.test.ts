import { describe, expect, it } from 'vitest'
import type { ExportableSpan } from '../types.js'
import { idsOf, numberAttribute, scopeNameOf, stringAttribute, timeMs, timingOf } from './span.js'

const context = () => ({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) })

/** SDK 2.x / 3.x `ReadableSpan` shape. */
const modern = {
  name: 'work',
  kind: 0,
  spanContext: context,
  parentSpanContext: { spanId: 'c'.repeat(16) },
  startTime: [1_700_000_000, 250_000_000],
  endTime: [1_700_000_000, 750_000_000],
  duration: [0, 500_000_000],
  status: { code: 0 },
  attributes: {},
  events: [],
  instrumentationScope: { name: 'scope-3x', version: '1.0.0' },
} satisfies ExportableSpan

/** SDK 1.x shape: `parentSpanId`, `instrumentationLibrary`. */
const legacy = {
  name: 'work',
  kind: 0,
  spanContext: context,
  parentSpanId: 'd'.repeat(16),
  startTime: [1_700_000_000, 0],
  endTime: [1_700_000_001, 500_000_000],
  status: { code: 0 },
  attributes: {},
  events: [],
  instrumentationLibrary: { name: 'library-1x' },
} satisfies ExportableSpan

describe('span shapes', () => {
  it('times a span from its duration, or from end minus start when it has none', () => {
    expect(timingOf(modern)).toEqual({ startMs: 1_700_000_000_250, durationMs: 500 })
    expect(timingOf(legacy)).toEqual({ startMs: 1_700_000_000_000, durationMs: 1_500 })
    expect(timingOf({ ...legacy, endTime: [1_699_999_999, 0] })).toEqual({
      startMs: 1_700_000_000_000,
      durationMs: 0,
    })
    expect(timingOf({ ...legacy, startTime: 'soon' as unknown as [number, number] })).toBeUndefined()
    expect(timeMs(1_700_000_000_123)).toBe(1_700_000_000_123)
    expect(timeMs([Number.NaN, 0])).toBeUndefined()
  })

  it('reads the parent and the instrumentation under both names', () => {
    expect(idsOf(modern)).toEqual({
      traceId: 'a'.repeat(32),
      spanId: 'b'.repeat(16),
      parentSpanId: 'c'.repeat(16),
    })
    expect(idsOf(legacy).parentSpanId).toBe('d'.repeat(16))
    expect(scopeNameOf(modern)).toBe('scope-3x')
    expect(scopeNameOf(legacy)).toBe('library-1x')
    const broken = {
      ...legacy,
      spanContext: () => {
        throw new Error('gone')
      },
    }
    expect(idsOf(broken)).toEqual({ traceId: undefined, spanId: undefined, parentSpanId: 'd'.repeat(16) })
  })

  it('reads attributes of every value shape (3.x allows maps and byte arrays)', () => {
    const attributes = {
      text: 'x',
      empty: '',
      list: ['first', 'second'],
      count: 3,
      numeric: '12',
      blank: ' ',
      nested: { a: 1 },
      bytes: new Uint8Array([1]),
      infinite: Number.POSITIVE_INFINITY,
    }
    expect(stringAttribute(attributes, 'text')).toBe('x')
    expect(stringAttribute(attributes, 'empty')).toBeUndefined()
    expect(stringAttribute(attributes, 'list')).toBe('first')
    expect(stringAttribute(attributes, 'nested')).toBeUndefined()
    expect(numberAttribute(attributes, 'count')).toBe(3)
    expect(numberAttribute(attributes, 'numeric')).toBe(12)
    expect(numberAttribute(attributes, 'blank')).toBeUndefined()
    expect(numberAttribute(attributes, 'bytes')).toBeUndefined()
    expect(numberAttribute(attributes, 'infinite')).toBeUndefined()
  })
})
