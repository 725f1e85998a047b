import { describe, expect, it } from 'vitest'
import { type QueuedRequest, RequestQueue } from './queue.js'

const make = (queue: RequestQueue, feature: QueuedRequest['feature'] = 'events'): QueuedRequest => {
  const id = queue.allocateId()
  return {
    id,
    feature,
    body: `{"n":${id}}`,
    device: 'd',
    events: 1,
    createdAt: id,
    queuedAt: 0,
    persistBy: 0,
  }
}

describe('RequestQueue', () => {
  it('is FIFO and removes arbitrary entries', () => {
    const queue = new RequestQueue(10, () => {})
    const items = Array.from({ length: 5 }, () => make(queue))
    for (const item of items) queue.push(item)
    queue.remove(items[1]!.id)
    expect(queue.peek(10).map((r) => r.id)).toEqual([1, 3, 4, 5])
    queue.remove(items[0]!.id)
    expect(queue.peek(2).map((r) => r.id)).toEqual([3, 4])
    expect(queue.size).toBe(3)
  })

  it('drops the oldest when full and reports it', () => {
    const evicted: number[] = []
    const queue = new RequestQueue(3, (r) => evicted.push(r.id))
    for (let i = 0; i < 5; i++) queue.push(make(queue))
    expect(evicted).toEqual([1, 2])
    expect(queue.peek(10).map((r) => r.id)).toEqual([3, 4, 5])
  })

  it('purges by predicate and keeps order of the rest', () => {
    const queue = new RequestQueue(100, () => {})
    for (let i = 0; i < 6; i++) queue.push(make(queue, i % 2 ? 'views' : 'events'))
    const removed = queue.purge((r) => r.feature === 'views')
    expect(removed.map((r) => r.id)).toEqual([2, 4, 6])
    expect(queue.peek(10).map((r) => r.id)).toEqual([1, 3, 5])
  })

  it('continues ids after restored requests', () => {
    const queue = new RequestQueue(100, () => {})
    queue.push({
      id: 41,
      feature: 'events',
      body: '{}',
      device: 'd',
      events: 0,
      createdAt: 0,
      queuedAt: 0,
      persistBy: 0,
    })
    expect(queue.allocateId()).toBe(42)
  })

  it('stays correct across many pushes and removals (head compaction)', () => {
    const queue = new RequestQueue(100_000, () => {})
    for (let i = 0; i < 20_000; i++) queue.push(make(queue))
    for (const item of queue.peek(15_000)) queue.remove(item.id)
    expect(queue.size).toBe(5_000)
    expect(queue.peek(1)[0]!.id).toBe(15_001)
    queue.remove(19_999)
    expect(queue.has(19_999)).toBe(false)
    expect(queue.peek(100_000).length).toBe(4_999)
  })
})
