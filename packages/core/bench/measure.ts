import { openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'

/** Bytes this process caused to be written to storage (`write_bytes`) and passed to write(2) (`wchar`). */
export interface IoCounters {
  readonly writeBytes: number
  readonly wchar: number
}

export function readIo(): IoCounters {
  try {
    const fields = new Map<string, number>()
    for (const line of readFileSync('/proc/self/io', 'utf8').trim().split('\n')) {
      const [name, value] = line.split(':')
      if (name && value) fields.set(name.trim(), Number(value))
    }
    return { writeBytes: fields.get('write_bytes') ?? Number.NaN, wchar: fields.get('wchar') ?? Number.NaN }
  } catch {
    return { writeBytes: Number.NaN, wchar: Number.NaN }
  }
}

/** User + system CPU time of the whole process (every thread), in µs. */
export function cpuMicros(): number {
  const usage = process.cpuUsage()
  return usage.user + usage.system
}

const gc = (globalThis as { gc?: () => void }).gc

/** heapUsed after two full collections (needs `--expose-gc`). */
export function heapAfterGc(): number {
  if (!gc) throw new Error('run with --expose-gc')
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

const RESOLUTION_MS = 1

/** Nanoseconds the main thread has waited for a CPU while runnable (Linux schedstat `run_delay`), or NaN elsewhere. */
function mainThreadRunDelay(): () => number {
  let fd: number
  try {
    fd = openSync(`/proc/${process.pid}/task/${process.pid}/schedstat`, 'r')
  } catch {
    return () => Number.NaN
  }
  const buffer = Buffer.alloc(64)
  return () => {
    const length = readSync(fd, buffer, 0, buffer.length, 0)
    return Number(buffer.toString('latin1', 0, length).split(' ')[1])
  }
}

/**
 * Longest event-loop stall, two ways, from the same 1 ms timer period.
 * Wall: `monitorEventLoopDelay` records the full interval between its
 * callbacks; the stall is that minus the period. On a shared, oversubscribed
 * machine that includes time the process was runnable but waiting for a CPU
 * other processes held. Own: a 1 ms interval measures the wall gap between
 * its ticks minus the main thread's run-queue wait in that gap (schedstat),
 * i.e. the time the process itself held the loop up: its JavaScript, garbage
 * collection, blocking system calls.
 */
export class StallProbe {
  private readonly histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  private readonly runDelay = mainThreadRunDelay()
  private timer: NodeJS.Timeout | undefined
  private maxOwnMs = 0
  private maxGcMs = 0
  private readonly gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (entry.duration > this.maxGcMs) this.maxGcMs = entry.duration
  })

  start(): void {
    this.histogram.reset()
    this.histogram.enable()
    let lastWall = performance.now()
    let lastDelay = this.runDelay()
    this.maxOwnMs = 0
    this.maxGcMs = 0
    this.gc.observe({ entryTypes: ['gc'] })
    this.timer = setInterval(() => {
      const wall = performance.now()
      const delay = this.runDelay()
      const own = wall - lastWall - (delay - lastDelay) / 1e6 - RESOLUTION_MS
      if (own > this.maxOwnMs) this.maxOwnMs = own
      lastWall = wall
      lastDelay = delay
    }, RESOLUTION_MS)
  }

  /** Also the longest garbage-collection pause seen meanwhile. */
  stop(): { wallMs: number; ownMs: number; gcMs: number } {
    this.histogram.disable()
    clearInterval(this.timer)
    this.gc.disconnect()
    return {
      wallMs: Math.max(0, this.histogram.max / 1e6 - RESOLUTION_MS),
      ownMs: this.maxOwnMs,
      gcMs: this.maxGcMs,
    }
  }
}

/** Total size of the regular files under `dir`. */
export function directoryBytes(dir: string): number {
  let total = 0
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return 0
  }
  for (const name of names) {
    const path = join(dir, name)
    try {
      const stat = statSync(path)
      total += stat.isDirectory() ? directoryBytes(path) : stat.size
    } catch {
      // Removed while we looked (a temporary file).
    }
  }
  return total
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** The event every run records: a custom event with a small segmentation. */
export function benchEvent(seq: number): {
  count: number
  sum: number
  segmentation: { plan: string; country: string; seq: number }
} {
  return { count: 1, sum: 9.99, segmentation: { plan: 'pro', country: 'DE', seq } }
}

export const EVENT_KEY = 'purchase'

/** kill -9 runs record KILL_EVENTS_PER_TICK events every KILL_TICK_MS ms (1,000 events/s). */
export const KILL_TICK_MS = 25
export const KILL_EVENTS_PER_TICK = 25
/** How long the restarted process may deliver before what it still holds is counted instead. */
export const KILL_DRAIN_CAP_MS = 10_000

/**
 * Payload of `n` bench events: the JSON size of each event as it travels on
 * the wire (`key`, `count`, `sum`, `segmentation`, 13-digit `timestamp`,
 * `hour`, `dow`), summed.
 */
export function payloadBytes(n: number): number {
  const timestamp = Date.now()
  let total = 0
  for (let seq = 0; seq < n; seq++) {
    const { count, sum, segmentation } = benchEvent(seq)
    total += Buffer.byteLength(
      JSON.stringify({ key: EVENT_KEY, count, sum, segmentation, timestamp, hour: 12, dow: 3 }),
    )
  }
  return total
}
