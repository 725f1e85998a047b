import type { StoredRequest } from '../types.js'

/** A request waiting for delivery. */
export interface QueuedRequest extends StoredRequest {
  /** Device the request reports for (for per-device ordering). */
  readonly device: string
  /** Events inside it, for the accounting of `sent` and `dropped`. */
  readonly events: number
  /** Its `timestamp` (ms), for the server's `dort` age limit. */
  readonly createdAt: number
  /** When it entered the queue (ms, this clock; 0 when restored): how long it has waited to be sent. */
  readonly queuedAt: number
  /** By when it must be on disk: its data's recording time plus one flush interval (the durability promise). */
  readonly persistBy: number
}

/**
 * FIFO of requests with O(1) push and shift, bounded by `maxSize`: when full,
 * the oldest request makes room and is handed to `onEvict`. Removal of
 * arbitrary entries (delivered batches, permanent rejections, purges) marks
 * them and is compacted lazily. Ids only grow, so a request is found by a
 * binary search over a parallel array of ids: no index map with an entry
 * (and garbage) per queued request.
 */
export class RequestQueue {
  private items: (QueuedRequest | undefined)[] = []
  /** `ids[i]` is the id of `items[i]`, kept after removal: ascending, searchable. */
  private ids: number[] = []
  private head = 0
  private count = 0
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
    const last = this.ids.length > 0 ? this.ids[this.ids.length - 1]! : -1
    if (request.id > last) {
      this.items.push(request)
      this.ids.push(request.id)
    } else {
      // Never expected (ids are allocated in order), but kept correct: insert in id order.
      const at = this.lowerBound(request.id)
      this.items.splice(at, 0, request)
      this.ids.splice(at, 0, request.id)
      if (at < this.head) this.head = at
    }
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

  /** First position whose id is >= `id`. */
  private lowerBound(id: number): number {
    let low = this.head
    let high = this.ids.length
    while (low < high) {
      const mid = (low + high) >>> 1
      if (this.ids[mid]! < id) low = mid + 1
      else high = mid
    }
    return low
  }

  /** Position of a queued request with this id, or -1. */
  private positionOf(id: number): number {
    const at = this.lowerBound(id)
    return at < this.ids.length && this.ids[at] === id && this.items[at] !== undefined ? at : -1
  }

  has(id: number): boolean {
    return this.positionOf(id) !== -1
  }

  /** Requests in a call to the server right now. */
  get pinnedCount(): number {
    return this.pinned.size
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
    const position = this.positionOf(id)
    if (position === -1) return undefined
    const item = this.items[position]
    this.items[position] = undefined
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
      this.ids = []
      this.head = 0
    } else if (this.head > 4_096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.ids = this.ids.slice(this.head)
      this.head = 0
    }
  }
}
