import { describe, expect, it } from 'vitest'
import type { StorageAdapter, StoredRequest } from '../../src/index.js'
import { setup, sleep, tempDir, testServer } from '../helpers.js'
import { startDriver } from './child.js'
import { Ledger, scaled } from './support.js'

/**
 * Storage that fails (a read-only or full disk, simulated by an adapter that
 * throws) and storage shared by two processes. Either way nothing recorded
 * may go missing unreported.
 */

type Failing = 'open' | 'append' | 'remove' | 'setValue'

/** An in-memory adapter that throws (like a full disk) from the `after`-th call of `method` on. */
function failingStorage(method: Failing, after: number): StorageAdapter & { calls: number } {
  const stored = new Map<number, StoredRequest>()
  const adapter = {
    calls: 0,
    fail(name: Failing) {
      if (name === method && ++adapter.calls >= after)
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    },
    async open() {
      adapter.fail('open')
      return { requests: [], values: {} }
    },
    async append(requests: readonly StoredRequest[]) {
      adapter.fail('append')
      for (const request of requests) stored.set(request.id, request)
    },
    async remove(ids: readonly number[]) {
      adapter.fail('remove')
      for (const id of ids) stored.delete(id)
    },
    async setValue() {
      adapter.fail('setValue')
    },
    async close() {},
  }
  return adapter
}

describe('storage failures and shared storage (accounting identity on every event)', () => {
  for (const method of ['open', 'append', 'remove', 'setValue'] as const) {
    it(`a storage whose ${method}() throws degrades to memory with one warning and loses nothing`, async () => {
      const storage = failingStorage(method, method === 'append' || method === 'remove' ? 3 : 1)
      const { server, telemeter, logger } = await setup({ deviceId: 'own', storage })
      const ledger = new Ledger(`storage ${method}() throws`)
      ledger.watch(telemeter)
      const errors: Error[] = []
      telemeter.on('error', (error) => errors.push(error))
      const events = scaled(1_000, 20_000)
      for (let i = 0; i < events; i++) {
        // The server goes away for a while, so the queue has to hold data while storage fails.
        if (i === Math.floor(events / 3)) server.setFault({ type: 'down' })
        if (i === Math.floor((2 * events) / 3)) server.setFault(null)
        ledger.event(telemeter.forDevice(`d${i % 25}`))
        if (i % 50 === 0) await sleep(5)
      }
      await telemeter.flush()
      await telemeter.shutdown({ timeoutMs: 2_000 })
      const warnings = logger.warnings().filter((w) => w.includes('storage'))
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toContain('continuing in memory')
      // (An open() failure is reported before this test could listen.)
      if (method !== 'open')
        expect(errors.map((e) => e.message)).toContain('ENOSPC: no space left on device, write')
      expect(telemeter.status().storage.durable).toBe(false)
      ledger.summary(server, { storageCalls: storage.calls })
      expect(ledger.problems(server)).toEqual([])
      expect(server.violations).toEqual([])
    })
  }

  it('two processes pointed at one storage path: both deliver everything, and one process restarting alone delivers both backlogs', async () => {
    const server = await testServer()
    const dir = await tempDir()
    const ledger = new Ledger('two processes, one storage path')
    const total = scaled(1_000, 10_000)
    const config = {
      storagePath: dir,
      sessions: 'manual' as const,
      flushIntervalMs: 50,
      serverConfig: false,
      retry: { baseDelayMs: 50, maxDelayMs: 200 },
    }
    // First lives: the server is down half of the time, so both journals hold a backlog at shutdown.
    server.setFault({ type: 'down' })
    const first = ['a', 'b'].map((prefix) =>
      startDriver(
        server,
        { mode: 'record', prefix, config, devices: 20, batch: 10, total, shutdownTimeoutMs: 300 },
        ledger,
      ),
    )
    await sleep(300)
    server.setFault(null)
    await sleep(100)
    server.setFault({ type: 'down' })
    const firstDone = await Promise.all(first.map((driver) => driver.done))
    for (const [i, prefix] of ['a', 'b'].entries())
      ledger.addRecorded(Array.from({ length: firstDone[i]!.recorded }, (_, n) => `${prefix}${n}`))
    const kept = firstDone.reduce((n, done) => n + done.stats.queued, 0)
    // Restart with ONE process (scaled down): it holds the root and takes over the idle slot's journal.
    server.setFault(null)
    const second = startDriver(server, { mode: 'drain', prefix: 'x', config }, ledger)
    await second.done
    expect(second.logs.some((line) => line.includes('recovered 1 queue file(s)'))).toBe(true)
    ledger.summary(server, { keptAtFirstShutdown: kept })
    expect(kept).toBeGreaterThan(0)
    expect(ledger.problems(server)).toEqual([])
    expect(server.violations).toEqual([])
  })
})
