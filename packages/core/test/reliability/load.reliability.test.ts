import { describe, expect, it } from 'vitest'
import { tempDir, testServer } from '../helpers.js'
import { startDriver } from './child.js'
import { Ledger, SOAK, scaled } from './support.js'

/**
 * Load: a host records as fast as it can over many devices while the server
 * answers slowly, with default settings (file storage, 500 ms flush, a queue
 * of 10,000 requests). The queue is bounded, so what the server cannot take
 * in time is dropped as `queue-full` and named; memory must stay bounded
 * however many events and devices go through.
 */

const EVENTS = scaled(200_000, 1_000_000)
const DEVICES = scaled(20_000, 100_000)
/** Peak RSS of the recording process (Node itself is ~45 MB; garbage between collections included). */
const RSS_BOUND_MB = 320
/** Peak heap right after a full GC: what Telemeter keeps (a queue of 10,000 requests, 10,000 device states). */
const LIVE_HEAP_BOUND_MB = 80
const MB = 1024 * 1024

describe('load (accounting identity on every event)', () => {
  it(`${EVENTS} events over ${DEVICES} devices with a slow server: memory bounded, every event accounted for`, async () => {
    const server = await testServer()
    const dir = await tempDir()
    const ledger = new Ledger(`load: ${EVENTS} events over ${DEVICES} devices, slow server`)
    server.setFault({ type: 'slow', delayMs: 50 })
    const driver = startDriver(
      server,
      {
        mode: 'load',
        prefix: 'l',
        config: { storagePath: dir, deviceId: 'host', serverConfig: false, sessions: 'manual' },
        devices: DEVICES,
        total: EVENTS,
        slice: 1_000,
        shutdownTimeoutMs: 2_000,
      },
      ledger,
    )
    const done = await driver.done
    expect(done.recorded).toBe(EVENTS)
    ledger.addRecorded(Array.from({ length: EVENTS }, (_, n) => `l${n}`))
    // What was still queued at shutdown is on disk: a restart delivers it.
    server.setFault(null)
    const drain = startDriver(
      server,
      { mode: 'drain', prefix: 'r', config: { storagePath: dir, serverConfig: false, sessions: 'manual' } },
      ledger,
    )
    await drain.done
    const eventsPerSecond = Math.round(EVENTS / (done.recordMs! / 1000))
    ledger.summary(server, {
      soak: String(SOAK),
      peakRssMB: Math.round(done.maxRss / MB),
      peakHeapMB: Math.round(done.peakHeap / MB),
      liveHeapMB: Math.round(done.liveHeap / MB),
      recordMs: Math.round(done.recordMs!),
      eventsPerSecond,
      cpuMicrosPerEvent: Math.round((done.recordCpuMs! * 1000 * 100) / EVENTS) / 100,
      keptForRestart: done.stats.queued,
    })
    expect(ledger.problems(server)).toEqual([])
    expect(done.maxRss).toBeLessThan(RSS_BOUND_MB * MB)
    expect(done.liveHeap).toBeLessThan(LIVE_HEAP_BOUND_MB * MB)
    expect(server.violations).toEqual([])
  })
})
