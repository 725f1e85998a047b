import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { Telemeter, TelemeterConfig } from '@telemeter/core'
import { benchEvent, directoryBytes, EVENT_KEY, sleep } from './measure.js'

export const APP_KEY = 'BENCH_APP_KEY'
/** Both SDKs flush recorded events every 500 ms by default (Telemeter `flushIntervalMs`, Countly `interval`). */
export const FLUSH_INTERVAL_MS = 500
export type SdkName = 'telemeter' | 'countly'

/** One SDK behind the operations the benchmarks need. */
export interface Subject {
  readonly name: SdkName
  /** Record bench event number `seq`. */
  event(seq: number, key?: string): void
  /**
   * Resolve true once every event recorded so far is in the storage files and
   * the persistence work it caused has settled; false at `deadline` (ms epoch).
   */
  persisted(deadline: number): Promise<boolean>
  /** Events in the storage files, parsed from disk (call after measuring). */
  storedEvents(): Promise<number>
  /** Requests + unbatched events still queued in memory. */
  backlog(): number
}

// ---------------------------------------------------------------- Telemeter

/** `BENCH_CORE_ENTRY=../src/index.ts` benchmarks the sources instead of the build. */
const CORE_ENTRY = process.env.BENCH_CORE_ENTRY ?? '@telemeter/core'

/** The build may be missing for a moment while another process rebuilds it: retry for a while. */
export async function loadCore(): Promise<typeof import('@telemeter/core')> {
  for (let attempt = 0; ; attempt++) {
    try {
      return (await import(CORE_ENTRY)) as typeof import('@telemeter/core')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND' || attempt >= 60) throw error
      await sleep(500)
    }
  }
}

export async function createTelemeterFor(config: Omit<TelemeterConfig, 'appKey'>): Promise<Telemeter> {
  const core = await loadCore()
  return core.createTelemeter({ appKey: APP_KEY, sessions: 'manual', ...config })
}

export async function openTelemeter(
  url: string,
  dir: string,
  deviceId: string,
): Promise<Subject & { telemeter: Telemeter }> {
  const telemeter = await createTelemeterFor({ url, storagePath: dir, deviceId })
  // Resolves once storage is open (nothing is queued, so nothing is sent).
  await telemeter.flush()
  return {
    name: 'telemeter',
    telemeter,
    event: (seq, key = EVENT_KEY) => telemeter.event(key, benchEvent(seq)),
    async persisted(deadline) {
      // Every event is flushed into a request and appended to the journal at
      // the next flush tick: wait for one interval, then for the files to stop growing.
      const since = Date.now()
      let last = -1
      let stable = 0
      while (Date.now() < deadline) {
        await sleep(20)
        const size = directoryBytes(dir)
        const settled =
          telemeter.stats().pendingEvents === 0 && Date.now() - since > FLUSH_INTERVAL_MS && size === last
        stable = settled ? stable + 1 : 0
        last = size
        if (stable >= 3) return true
      }
      return false
    },
    storedEvents: async () => journalEvents(join(dir, 'queue.journal')),
    backlog: () => {
      const stats = telemeter.stats()
      return stats.queued + stats.pendingEvents
    },
  }
}

/** Live request bodies of a Telemeter journal by id, read independently of the code under test. */
function journalBodies(path: string): Map<number, { events?: unknown[] }> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return new Map()
  }
  const bodies = new Map<number, { events?: unknown[] }>()
  for (const line of text.split('\n')) {
    const fields = line.split('\t')
    if (fields[0] === 'A' && fields.length === 5) {
      try {
        bodies.set(Number(fields[1]), JSON.parse(fields[4] as string) as { events?: unknown[] })
      } catch {
        // A torn last line.
      }
    } else if (fields[0] === 'D' && fields.length === 3) {
      for (const range of (fields[2] as string).split(',')) {
        const [from, to = from] = range.split('-').map(Number) as [number, number?]
        for (let id = from; id <= (to as number); id++) bodies.delete(id)
      }
    }
  }
  return bodies
}

/** Events of the live requests in a Telemeter journal. */
function journalEvents(path: string): number {
  let total = 0
  for (const body of journalBodies(path).values())
    total += Array.isArray(body.events) ? body.events.length : 0
  return total
}

// ---------------------------------------------------------------- countly-sdk-nodejs

/** The parts of countly-sdk-nodejs 24.10.4 the benchmarks use (it ships no types). */
export interface CountlyModule {
  init(config: Record<string, unknown>): void
  add_event(event: { key: string; count?: number; sum?: number; segmentation?: object }): void
  request(request: Record<string, unknown>): void
  Bulk: new (config: Record<string, unknown>) => CountlyBulk
}
export interface CountlyBulk {
  add_bulk_request(requests: Record<string, unknown>[]): CountlyBulk
  start(onEmpty?: () => void): CountlyBulk
}
/** Its storage module: the same instance the SDK uses (one module cache). */
export interface CountlyStorage {
  storeSet(key: string, value: unknown, callback?: (error: unknown) => void): void
  storeGet(key: string, fallback: unknown): unknown
  writeFile(key: string, value: unknown, callback?: (error: unknown) => void): void
}

const require = createRequire(import.meta.url)
export const loadCountly = (): { Countly: CountlyModule; storage: CountlyStorage } => ({
  Countly: require('countly-sdk-nodejs') as CountlyModule,
  storage: require('countly-sdk-nodejs/lib/countly-storage.js') as CountlyStorage,
})

export function openCountly(
  url: string,
  dir: string,
  deviceId: string,
  extra: Record<string, unknown> = {},
): Subject {
  const { Countly, storage } = loadCountly()
  // The SDK concatenates the path and `__<key>.json`: it needs the trailing slash.
  Countly.init({ app_key: APP_KEY, url, storage_path: `${dir}/`, device_id: deviceId, ...extra })
  return {
    name: 'countly',
    event: (seq, key = EVENT_KEY) => Countly.add_event({ key, ...benchEvent(seq) }),
    persisted(deadline) {
      // File writes run one after another; a write queued now completes after
      // every write the recorded events queued before it.
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))
        storage.storeSet('bench_marker', Date.now(), () => {
          clearTimeout(timer)
          resolve(true)
        })
      })
    },
    storedEvents: () => countlyStoredEvents(dir),
    backlog: () => countlyBacklog(storage),
  }
}

export function countlyBacklog(storage: CountlyStorage): number {
  const requests = storage.storeGet('cly_queue', []) as unknown[]
  const events = storage.storeGet('cly_event', []) as unknown[]
  return requests.length + events.length
}

async function readCountlyFile(dir: string, key: string): Promise<unknown> {
  // The SDK truncates and rewrites these files continuously; retry a read that
  // caught one empty or half-written.
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      return (JSON.parse(readFileSync(join(dir, `__${key}.json`), 'utf8')) as Record<string, unknown>)[key]
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      await sleep(5)
    }
  }
  return undefined
}

async function countlyStoredEvents(dir: string): Promise<number> {
  const events = await readCountlyFile(dir, 'cly_event')
  const requests = await readCountlyFile(dir, 'cly_queue')
  let total = Array.isArray(events) ? events.length : 0
  if (Array.isArray(requests)) {
    for (const request of requests as { events?: string }[]) {
      if (typeof request.events === 'string') total += (JSON.parse(request.events) as unknown[]).length
    }
  }
  return total
}

type BenchEvent = { segmentation?: { seq?: unknown } }
const seqsOf = (events: unknown): number[] =>
  Array.isArray(events) ? (events as BenchEvent[]).map((event) => Number(event.segmentation?.seq)) : []

/** Sequence numbers of the bench events the official SDK holds in memory (its queues after a restart). */
export function countlyHeldSeqs(): number[] {
  const { storage } = loadCountly()
  const held = seqsOf(storage.storeGet('cly_event', []))
  for (const request of storage.storeGet('cly_queue', []) as { events?: string }[]) {
    if (typeof request.events === 'string') held.push(...seqsOf(JSON.parse(request.events)))
  }
  return held
}

/** Sequence numbers of the bench events in a Telemeter journal's live requests. */
export function journalSeqs(dir: string): number[] {
  const held: number[] = []
  for (const body of journalBodies(join(dir, 'queue.journal')).values()) held.push(...seqsOf(body.events))
  return held
}

/** Events an SDK left in its storage directory. */
export function storedEvents(sdk: SdkName, dir: string): Promise<number> {
  return sdk === 'telemeter'
    ? Promise.resolve(journalEvents(join(dir, 'queue.journal')))
    : countlyStoredEvents(dir)
}

/** A raw `/i` request carrying one bench event for `deviceId`, as Countly.request() and CountlyBulk take it. */
export function rawEventRequest(deviceId: string, seq: number, sdk: { name: string; version: string }) {
  const timestamp = Date.now()
  const date = new Date(timestamp)
  const event = { key: EVENT_KEY, ...benchEvent(seq), timestamp, hour: date.getHours(), dow: date.getDay() }
  return {
    app_key: APP_KEY,
    device_id: deviceId,
    timestamp,
    hour: date.getHours(),
    dow: date.getDay(),
    tz: -date.getTimezoneOffset(),
    sdk_name: sdk.name,
    sdk_version: sdk.version,
    events: JSON.stringify([event]),
  }
}
