import { describe, expect, it } from 'vitest'
import { compressIds, decodeLine, encodeAppend, encodeRemove, expandIds, replay } from './journal.js'

const request = (id: number, body = `{"device_id":"d${id}","events":[{"key":"k"}]}`) =>
  ({ id, feature: 'events', body }) as const

describe('journal codec', () => {
  it('round-trips appends and removals', async () => {
    const text =
      encodeAppend(request(1)) + encodeAppend(request(2)) + encodeRemove([1]) + encodeAppend(request(3))
    const { requests, corruptRecords, removedRecords } = await replay(text)
    expect(corruptRecords).toBe(0)
    expect(removedRecords).toBe(1)
    expect([...requests.keys()]).toEqual([2, 3])
    expect(requests.get(3)).toEqual(request(3))
  })

  it('compresses ids into ranges and expands them back', () => {
    expect(compressIds([5, 1, 2, 3, 9, 10, 7])).toBe('1-3,5,7,9-10')
    expect(expandIds('1-3,5,7,9-10')).toEqual([1, 2, 3, 5, 7, 9, 10])
    expect(expandIds('3-1')).toBeUndefined()
    expect(expandIds('a')).toBeUndefined()
  })

  it('discards a torn last record and keeps everything before it', async () => {
    const whole = encodeAppend(request(1)) + encodeAppend(request(2))
    const torn = whole + encodeAppend(request(3)).slice(0, 20)
    const { requests, corruptRecords } = await replay(torn)
    expect([...requests.keys()]).toEqual([1, 2])
    expect(corruptRecords).toBe(1)
  })

  it('skips a record with flipped bytes and keeps the valid ones around it', async () => {
    const middle = encodeAppend(request(2)).replace('"d2"', '"dX"')
    const text = encodeAppend(request(1)) + middle + encodeAppend(request(3))
    const { requests, corruptRecords } = await replay(text)
    expect([...requests.keys()]).toEqual([1, 3])
    expect(corruptRecords).toBe(1)
  })

  it('rejects lines of the wrong shape', () => {
    expect(decodeLine('garbage')).toBeUndefined()
    expect(decodeLine('A\t1\tevents\t00000000\t{}')).toBeUndefined()
    expect(decodeLine(encodeRemove([4, 5]).trimEnd())).toEqual({ op: 'remove', ids: [4, 5] })
  })
})
