import type { ResolvedConfig } from './config.js'
import { backoffDelay, classifyResponse, type Outcome } from './delivery.js'
import type { TelemeterLogger } from './logger.js'
import type { QueuedRequest, RequestQueue } from './queue.js'
import { bulkRequest, type EncodeOptions, singleRequest, type WireRequest } from './request.js'
import type { Transport } from './transport.js'

export interface SenderHooks {
  /** The batch was accepted by the server. */
  delivered(batch: readonly QueuedRequest[], endpoint: '/i' | '/i/bulk'): void
  /** The server refused the batch for good. */
  rejected(batch: readonly QueuedRequest[], reason: string): void
  /** A delivery attempt failed and will be retried. */
  retrying(batch: readonly QueuedRequest[], reason: string): void
  /** May sending happen at all right now (kill switches, networking switch)? */
  maySend(): boolean
  /** Drop what may no longer be sent (age limits) before a batch is picked. */
  prune?(): void
  /** The server answered with this HTTP status. */
  responded?(status: number): void
  /** An attempt failed (network error or refusal). */
  failed?(reason: string): void
  /** Adjust a request's headers/agent before it leaves (the `beforeRequest` hook). */
  prepare?(request: WireRequest): WireRequest | undefined
}

/**
 * Most HTTP requests in flight at once (the transport's socket limit). Only
 * batches with no device in common overlap, so per-device order holds.
 */
const MAX_IN_FLIGHT = 4
/** How far past the oldest request a batch is looked for while others are in flight. */
const SCAN_FACTOR = 4
/**
 * Calls after a lost answer (timeout, reset, unreadable 2xx) during which a
 * call carries at most one request per device. The server's duplicate check
 * remembers only the last request of each device, so only such calls can be
 * re-sent without the server counting anything twice.
 */
const CAREFUL_CALLS = 50

/**
 * Moves the queue to the server. Batches go to `/i/bulk`; a lone request, or
 * every request when a salt is set, goes to `/i`. Several batches may be in
 * flight at once, but never two carrying requests of the same device, and a
 * device's request is never sent while an older one of it is unsent, so
 * per-device order holds (an `end_session` never overtakes its events).
 * Failures back off exponentially with jitter, honouring Retry-After; a
 * failing backend is logged once per state change, not per retry.
 */
export class Sender {
  private running: Promise<void> | undefined
  private scheduled = false
  /** Waiting for a batch to fill (or its oldest request to be due), see `schedule`. */
  private lingerTimer: NodeJS.Timeout | undefined
  /** `drain()` asked to send everything now, full batches or not. */
  private forced = false
  private backoffTimer: NodeJS.Timeout | undefined
  private backoffUntil = 0
  private retryAfterUntil = 0
  private attempt = 0
  private reachable = true
  private stopped = false
  private readonly encode: EncodeOptions
  /** Answered calls still to go at one request per device (see CAREFUL_CALLS). */
  private careful = 0
  /** Endpoint of requests whose answer was lost: `/i` and `/i/bulk` hash differently, a re-send must match. */
  private readonly lostVia = new Map<number, '/i' | '/i/bulk'>()

  constructor(
    private readonly config: ResolvedConfig,
    private readonly queue: RequestQueue,
    private readonly transport: Transport,
    private readonly logger: TelemeterLogger,
    private readonly hooks: SenderHooks,
  ) {
    this.encode = { appKey: config.appKey, salt: config.salt, forcePost: config.forcePost }
  }

  get backingOff(): boolean {
    return this.backoffUntil > Date.now()
  }

  /**
   * Start sending once a whole batch is queued, or once the oldest queued
   * request has waited `lingerMs` (half a flush interval). An HTTP call has a
   * fixed cost far above that of one more request in its body, so calls are
   * kept full instead of one per request.
   */
  schedule(): void {
    if (this.scheduled || this.running || this.stopped || this.backingOff) return
    const wait = this.lingerLeft()
    if (wait > 0) {
      this.lingerTimer ??= setTimeout(() => {
        this.lingerTimer = undefined
        this.schedule()
      }, wait).unref()
      return
    }
    if (this.lingerTimer) clearTimeout(this.lingerTimer)
    this.lingerTimer = undefined
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      void this.run()
    })
  }

  /** How long until a batch is worth sending: 0 when full or due. */
  private lingerLeft(): number {
    if (this.forced) return 0
    // The oldest request not already in a call decides; those in calls are on their way.
    const waiting = this.queue.select(1, (request) => !this.queue.isPinned(request.id), this.queue.size)
    const oldest = waiting[0]
    if (!oldest) return 0
    if (this.queue.size - this.queue.pinnedCount >= this.batchLimit) return 0
    return Math.max(0, oldest.queuedAt + this.lingerMs - Date.now())
  }

  private get batchLimit(): number {
    return this.config.salt ? 1 : this.config.bulkSize
  }

  private get lingerMs(): number {
    return Math.floor(this.config.flushIntervalMs / 2)
  }

  /**
   * Send now, skipping an ordinary backoff wait but never a server's
   * Retry-After. Resolves when the queue is empty or an attempt failed.
   */
  drain(): Promise<void> {
    this.forced = true
    if (this.running) return this.running.finally(() => (this.forced = false))
    if (this.stopped || this.retryAfterUntil > Date.now()) {
      this.forced = false
      return Promise.resolve()
    }
    this.clearBackoff()
    return this.run().finally(() => (this.forced = false))
  }

  stop(): void {
    this.stopped = true
    this.clearBackoff()
    if (this.lingerTimer) clearTimeout(this.lingerTimer)
    this.lingerTimer = undefined
  }

  private clearBackoff(): void {
    if (this.backoffTimer) clearTimeout(this.backoffTimer)
    this.backoffTimer = undefined
    this.backoffUntil = 0
  }

  private run(): Promise<void> {
    if (this.running) return this.running
    this.running = this.loop().finally(() => {
      this.running = undefined
      // Requests that arrived during the run, too few for a batch: wait for more or for their turn.
      if (this.queue.size > this.queue.pinnedCount && !this.stopped) this.schedule()
    })
    return this.running
  }

  /** Send batches, up to MAX_IN_FLIGHT at once, until the queue is empty or an attempt fails. */
  private async loop(): Promise<void> {
    const inFlight = new Set<Promise<void>>()
    const busyIds = new Set<number>()
    const busyDevices = new Set<string>()
    let failed = false
    const settle = (batch: readonly QueuedRequest[], endpoint: '/i' | '/i/bulk', outcome: Outcome) => {
      for (const request of batch) {
        busyIds.delete(request.id)
        busyDevices.delete(request.device)
      }
      this.queue.pin(batch, false)
      if (this.stopped) return
      if (outcome.kind !== 'retry') {
        if (this.careful > 0) this.careful--
        for (const request of batch) this.lostVia.delete(request.id)
      } else if (answerLost(outcome)) {
        this.careful = CAREFUL_CALLS
        for (const request of batch) this.lostVia.set(request.id, endpoint)
      }
      if (outcome.kind === 'delivered') {
        this.markReachable()
        this.attempt = 0
        this.hooks.delivered(batch, endpoint)
      } else if (outcome.kind === 'rejected') {
        this.markReachable()
        this.attempt = 0
        this.logger.warnOnce(
          `rejected:${outcome.reason}`,
          `the server refused a request for good: ${outcome.reason}`,
        )
        this.hooks.rejected(batch, outcome.reason)
      } else {
        this.hooks.retrying(batch, outcome.reason)
        if (!failed) this.enterBackoff(outcome)
        failed = true
      }
    }
    for (;;) {
      while (
        !failed &&
        !this.stopped &&
        inFlight.size < MAX_IN_FLIGHT &&
        this.queue.size > busyIds.size &&
        this.hooks.maySend() &&
        // Keep calls full: a partial batch goes only when forced or when its oldest request is due.
        this.lingerLeft() === 0
      ) {
        this.hooks.prune?.()
        const batch = this.pickBatch(busyIds, busyDevices)
        if (batch.length === 0) break
        for (const request of batch) {
          busyIds.add(request.id)
          busyDevices.add(request.device)
        }
        this.queue.pin(batch, true)
        const endpoint =
          this.config.salt || (batch.length === 1 && this.lostVia.get(batch[0]!.id) !== '/i/bulk')
            ? '/i'
            : '/i/bulk'
        const task: Promise<void> = this.attemptSend(batch, endpoint)
          .then((outcome) => settle(batch, endpoint, outcome))
          .finally(() => inFlight.delete(task))
        inFlight.add(task)
      }
      if (inFlight.size === 0) return
      await Promise.race(inFlight)
    }
  }

  /** The oldest requests that may go now: none in flight, none of a device with a request in flight. */
  private pickBatch(busyIds: ReadonlySet<number>, busyDevices: ReadonlySet<string>): QueuedRequest[] {
    const limit = this.config.salt ? 1 : this.config.bulkSize
    if (this.careful === 0 && this.lostVia.size > 0)
      for (const id of this.lostVia.keys()) if (!this.queue.has(id)) this.lostVia.delete(id)
    if (busyIds.size === 0 && this.careful === 0 && this.lostVia.size === 0) return this.queue.peek(limit)
    // A request in flight has its device busy, so that device's later requests are passed over too;
    // after a lost answer, so are a device's requests after its first one in this call.
    const taken = this.careful > 0 ? new Set<string>() : undefined
    const batch = this.queue.select(
      limit,
      (request) => {
        if (busyIds.has(request.id)) return false
        // A trace has no order to keep with anything: it may travel beside its device's requests in flight.
        if (busyDevices.has(request.device) && request.feature !== 'apm') return false
        if (taken?.has(request.device)) return false
        taken?.add(request.device)
        return true
      },
      limit * SCAN_FACTOR + busyIds.size,
    )
    // A request first sent alone to /i goes alone to /i again (the server hashes bulk items differently).
    const alone = batch.findIndex((request) => this.lostVia.get(request.id) === '/i')
    return alone === -1 ? batch : alone === 0 ? batch.slice(0, 1) : batch.slice(0, alone)
  }

  private async attemptSend(batch: readonly QueuedRequest[], endpoint: '/i' | '/i/bulk'): Promise<Outcome> {
    let wire: WireRequest | undefined
    try {
      wire =
        endpoint === '/i/bulk'
          ? bulkRequest(
              batch.map((request) => request.body),
              this.config.appKey,
            )
          : singleRequest('/i', JSON.parse(batch[0]!.body) as Record<string, unknown>, this.encode)
      if (this.hooks.prepare) wire = this.hooks.prepare(wire)
    } catch (error) {
      return { kind: 'rejected', reason: `request could not be encoded: ${(error as Error).message}` }
    }
    if (!wire) return { kind: 'rejected', reason: 'beforeRequest cancelled the request' }
    try {
      const response = await this.transport.send(wire)
      this.hooks.responded?.(response.status)
      const outcome = classifyResponse(response)
      if (outcome.kind !== 'delivered') this.hooks.failed?.(outcome.reason)
      return outcome
    } catch (error) {
      const reason = (error as Error).message || 'network error'
      this.hooks.failed?.(reason)
      return { kind: 'retry', reason }
    }
  }

  private enterBackoff(outcome: Extract<Outcome, { kind: 'retry' }>): void {
    const delay =
      outcome.retryAfterMs ??
      backoffDelay(this.attempt, this.config.retryBaseDelayMs, this.config.retryMaxDelayMs)
    this.attempt++
    this.backoffUntil = Date.now() + delay
    if (outcome.retryAfterMs !== undefined) this.retryAfterUntil = this.backoffUntil
    if (this.reachable) {
      this.reachable = false
      this.logger.warn(
        `cannot deliver to ${this.config.url.host} (${outcome.reason}); queued data is kept and retried`,
      )
    } else {
      this.logger.debug(`delivery still failing (${outcome.reason}); next attempt in ${delay} ms`)
    }
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = undefined
      this.backoffUntil = 0
      this.schedule()
    }, delay)
    this.backoffTimer.unref()
  }

  private markReachable(): void {
    if (this.reachable) return
    this.reachable = true
    this.logger.notice(`delivery to ${this.config.url.host} works again`)
  }
}

/** A failed call the server may have processed all the same: no answer, or a 2xx without a readable result. */
function answerLost(outcome: Extract<Outcome, { kind: 'retry' }>): boolean {
  return outcome.status === undefined || (outcome.status >= 200 && outcome.status < 300)
}
