import type { StoredRequest } from '../types.js'

/** A request waiting for delivery. */
export interface QueuedRequest extends StoredRequest {
  /** Device the request reports for (for per-device ordering). */
  readonly device: string
  /** Events inside it, for the accounting of `sent` and `dropped`. */
  readonly events: number
  /** Its `timestamp` (ms), for the server's `dort` age limit. */
  readonly createdAt: number
}

/**
 * FIFO of requests with O(1) push and shift, bounded by `maxSize`: when full,
 * the oldest request makes room and is handed to `onEvict`. Removal of
 * arbitrary entries (delivered batches, permanent rejections, purges) marks
 * them and is compacted lazily.
 */
export class RequestQueue {
  private items: (QueuedRequest | undefined)[] = []
  private head = 0
  private count = 0
  private readonly index = new Map<number, number>()
  private nextId = 1
  /** Requests in a call to the server: a full queue never drops them (the call may deliver them). */
  private readonly pinned = new Set<number>()

  constructor(
    private maxSize: number,
    private readonly onEvict: (request: QueuedRequest) => void,
  ) {}

  get size(): number {
    return this.count
  }

  setMaxSize(maxSize: number): void {
    this.maxSize = maxSize
    while (this.count > this.maxSize && this.evictOldest()) {}
  }

  /** The id the next request will get (after restoring, past every stored id). */
  allocateId(): number {
    return this.nextId++
  }

  push(request: QueuedRequest): void {
    if (request.id >= this.nextId) this.nextId = request.id + 1
    this.index.set(request.id, this.items.length)
    this.items.push(request)
    this.count++
    while (this.count > this.maxSize && this.evictOldest()) {}
  }

  /** Up to `limit` oldest requests, optionally only while `accept` says yes. */
  peek(limit: number, accept?: (request: QueuedRequest) => boolean): QueuedRequest[] {
    const result: QueuedRequest[] = []
    for (let i = this.head; i < this.items.length && result.length < limit; i++) {
      const item = this.items[i]
      if (item === undefined) continue
      if (accept && !accept(item)) break
      result.push(item)
    }
    return result
  }

  /**
   * Up to `limit` of the oldest requests that `accept` takes, passing over
   * the ones it declines; looks at no more than `scan` requests.
   */
  select(limit: number, accept: (request: QueuedRequest) => boolean, scan: number): QueuedRequest[] {
    const result: QueuedRequest[] = []
    for (let i = this.head; i < this.items.length && result.length < limit && scan > 0; i++) {
      const item = this.items[i]
      if (item === undefined) continue
      scan--
      if (accept(item)) result.push(item)
    }
    return result
  }

  has(id: number): boolean {
    return this.index.has(id)
  }

  isPinned(id: number): boolean {
    return this.pinned.has(id)
  }

  /** Mark requests as in a call to the server (`true`) or back (`false`). */
  pin(requests: readonly QueuedRequest[], pinned: boolean): void {
    for (const request of requests) {
      if (pinned) this.pinned.add(request.id)
      else this.pinned.delete(request.id)
    }
  }

  remove(id: number): QueuedRequest | undefined {
    const position = this.index.get(id)
    if (position === undefined) return undefined
    const item = this.items[position]
    this.items[position] = undefined
    this.index.delete(id)
    this.count--
    this.advanceHead()
    return item
  }

  /** Remove every request `predicate` selects; returns them. */
  purge(predicate: (request: QueuedRequest) => boolean): QueuedRequest[] {
    const removed: QueuedRequest[] = []
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i]
      // A request in a call is on the wire already: its call decides (delivered or kept).
      if (item !== undefined && !this.pinned.has(item.id) && predicate(item)) {
        this.items[i] = undefined
        this.index.delete(item.id)
        this.count--
        removed.push(item)
      }
    }
    this.advanceHead()
    return removed
  }

  /** Drop the oldest request not in a call; false when every request is in one (the queue stays over size until calls settle). */
  private evictOldest(): boolean {
    const oldest =
      this.pinned.size === 0
        ? this.peek(1)[0]
        : this.select(1, (request) => !this.pinned.has(request.id), this.pinned.size + 1)[0]
    if (!oldest) return false
    this.remove(oldest.id)
    this.onEvict(oldest)
    return true
  }

  private advanceHead(): void {
    while (this.head < this.items.length && this.items[this.head] === undefined) this.head++
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head > 4_096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
      this.index.clear()
      for (let i = 0; i < this.items.length; i++) {
        const item = this.items[i]
        if (item !== undefined) this.index.set(item.id, i)
      }
    }
  }
}
