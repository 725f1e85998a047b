import type { StorageAdapter, StoredData, StoredRequest } from '../types.js'
import type { ResolvedConfig } from './config.js'
import { FileStorage } from './file-storage.js'
import type { TelemeterLogger } from './logger.js'

/**
 * Persist without waiting for the flush tick once this many bytes of requests
 * are waiting: a burst reaches the disk in small steps instead of one large
 * write that would stall the event loop, and less is lost to a crash.
 */
const EARLY_PERSIST_BYTES = 1024 * 1024

/** Keeps nothing: the queue lives only in memory. */
export class MemoryStorage implements StorageAdapter {
  async open(): Promise<StoredData> {
    return { requests: [], values: {} }
  }
  async append(): Promise<void> {}
  async remove(): Promise<void> {}
  async setValue(): Promise<void> {}
  async close(): Promise<void> {}
}

export function createStorage(config: ResolvedConfig, logger: TelemeterLogger): StorageAdapter {
  if (config.storage === 'memory') return new MemoryStorage()
  if (config.storage === 'file') return new FileStorage(config.storagePath, logger)
  return config.storage
}

/**
 * Sits between the queue and a storage adapter. Changes are collected and
 * handed to the adapter in one call per kind at each `persist()` (the flush
 * tick, or as soon as EARLY_PERSIST_BYTES are waiting): a request delivered
 * before it was persisted is never written at all, and the adapter never sees
 * two calls at once. If the adapter fails, persistence stops with
 * one warning and the queue carries on in memory.
 */
/** A request with the moment it must be on disk by (the durability promise); undefined means at once. */
export type PersistedRequest = StoredRequest & { readonly persistBy?: number }

export class Persister {
  private readonly pendingAppends = new Map<number, PersistedRequest>()
  /** Latest deadline a pending `persist()` call asked for. */
  private until = Number.NEGATIVE_INFINITY
  private readonly pendingRemovals: number[] = []
  private readonly pendingValues = new Map<string, string | null>()
  private running: Promise<void> | undefined
  private again = false
  private failed = false
  /** Body bytes of pendingAppends. */
  private pendingBytes = 0
  private earlyScheduled = false

  constructor(
    private adapter: StorageAdapter,
    private readonly logger: TelemeterLogger,
    private readonly onFailure: (error: Error) => void,
  ) {}

  /** Queued data survives a restart (a real adapter that has not failed). */
  get durable(): boolean {
    return !this.failed && !(this.adapter instanceof MemoryStorage)
  }

  /** Stop persisting (the adapter could not even be opened). */
  degrade(): void {
    this.failed = true
    const adapter = this.adapter
    this.adapter = new MemoryStorage()
    adapter.close().catch(() => {})
  }

  append(request: PersistedRequest): void {
    if (this.failed) return
    this.pendingAppends.set(request.id, request)
    this.pendingBytes += request.body.length
    if (this.pendingBytes >= EARLY_PERSIST_BYTES && !this.earlyScheduled) {
      this.earlyScheduled = true
      setImmediate(() => {
        this.earlyScheduled = false
        void this.persist()
      }).unref()
    }
  }

  remove(id: number): void {
    if (this.failed) return
    const pending = this.pendingAppends.get(id)
    if (pending === undefined) this.pendingRemovals.push(id)
    else {
      this.pendingAppends.delete(id)
      this.pendingBytes -= pending.body.length
    }
  }

  setValue(key: string, value: string | null): void {
    if (!this.failed) this.pendingValues.set(key, value)
  }

  get hasPending(): boolean {
    return this.pendingAppends.size > 0 || this.pendingRemovals.length > 0 || this.pendingValues.size > 0
  }

  private hasDue(until: number): boolean {
    if (this.pendingRemovals.length > 0 || this.pendingValues.size > 0) return true
    if (until === Number.POSITIVE_INFINITY) return this.pendingAppends.size > 0
    for (const request of this.pendingAppends.values()) if ((request.persistBy ?? 0) <= until) return true
    return false
  }

  /** Take the pending appends due by `until`, oldest first. */
  private takeDue(until: number): PersistedRequest[] {
    if (until === Number.POSITIVE_INFINITY) {
      const all = [...this.pendingAppends.values()]
      this.pendingAppends.clear()
      this.pendingBytes = 0
      return all
    }
    const due: PersistedRequest[] = []
    for (const request of this.pendingAppends.values()) {
      if ((request.persistBy ?? 0) > until) continue
      due.push(request)
      this.pendingAppends.delete(request.id)
      this.pendingBytes -= request.body.length
    }
    return due
  }

  /**
   * Write what is pending; resolves once it is stored. With `until`, only
   * requests whose `persistBy` deadline is at or before it are written (with
   * every removal and value): a request delivered before its deadline never
   * touches the disk.
   */
  persist(until: number = Number.POSITIVE_INFINITY): Promise<void> {
    if (until > this.until) this.until = until
    if (this.running) {
      this.again = true
      return this.running
    }
    if (!this.hasDue(this.until)) {
      this.until = Number.NEGATIVE_INFINITY
      return Promise.resolve()
    }
    this.running = this.drain().finally(() => {
      this.running = undefined
    })
    return this.running
  }

  /**
   * Write pending appends synchronously (the process is dying). An append
   * already handed to the adapter asynchronously is in the kernel's hands.
   */
  /** The file storage behind this persister, for a process dying before it opened. */
  get fileStorage(): FileStorage | undefined {
    return !this.failed && this.adapter instanceof FileStorage ? this.adapter : undefined
  }

  persistSync(): void {
    if (this.failed || !this.adapter.appendSync || this.pendingAppends.size === 0) return
    const appends = [...this.pendingAppends.values()]
    this.pendingAppends.clear()
    this.pendingBytes = 0
    try {
      this.adapter.appendSync(appends)
    } catch {
      // Nothing more can be done for a process that is going down.
    }
  }

  async close(): Promise<void> {
    await this.persist()
    await this.persist()
    try {
      await this.adapter.close()
    } catch (error) {
      this.logger.warn(`storage could not be closed cleanly: ${(error as Error).message}`)
    }
  }

  private async drain(): Promise<void> {
    do {
      this.again = false
      const until = this.until
      this.until = Number.NEGATIVE_INFINITY
      const appends = this.takeDue(until)
      const removals = this.pendingRemovals.splice(0)
      const values = [...this.pendingValues]
      this.pendingValues.clear()
      try {
        if (appends.length > 0) await this.adapter.append(appends)
        if (removals.length > 0) await this.adapter.remove(removals)
        for (const [key, value] of values) await this.adapter.setValue(key, value)
      } catch (error) {
        this.fail(error as Error)
        return
      }
    } while (this.again && this.hasDue(this.until))
    this.until = Number.NEGATIVE_INFINITY
  }

  private fail(error: Error): void {
    this.failed = true
    this.pendingAppends.clear()
    this.pendingBytes = 0
    this.pendingRemovals.length = 0
    this.pendingValues.clear()
    this.logger.warn(
      `storage failed (${error.message}); continuing in memory: queued data will not survive a restart`,
    )
    this.onFailure(error)
    this.degrade()
  }
}
