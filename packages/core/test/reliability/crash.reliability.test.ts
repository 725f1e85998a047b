import type { Fault } from '@telemeter/testkit'
import { describe, expect, it } from 'vitest'
import type { TelemeterConfig } from '../../src/index.js'
import { sleep, tempDir, testServer } from '../helpers.js'
import { type DriverSpec, recordedBy, recordedTotal, startDriver, started } from './child.js'
import { corruptRecords, journalsUnder, persistedIds, tearLastRecord } from './journal-files.js'
import { Ledger, random, receivedIds, resentRequests, scaled, seedOf } from './support.js'

/**
 * kill -9 of a real child process (fixtures/driver.mjs, the build) while it
 * records and while it delivers, then restarts on the same storage. What a
 * killed process had not yet written to its journal is the only thing that
 * may be lost, and only if it was recorded within the last flush interval
 * before the kill; everything in the journal is delivered or reported.
 */

const FLUSH_INTERVAL_MS = 100
/** Recorded this long before the kill, an event must be in the journal (flush interval plus write latency). */
const SAFE_MARGIN_MS = FLUSH_INTERVAL_MS + 150
const LIVES = scaled(6, 30)

function config(dir: string): Partial<TelemeterConfig> {
  return {
    storagePath: dir,
    deviceId: 'crash-host',
    sessions: 'manual',
    flushIntervalMs: FLUSH_INTERVAL_MS,
    requestTimeoutMs: 2_000,
    serverConfig: false,
    retry: { baseDelayMs: 50, maxDelayMs: 200 },
  }
}

/** Ids `${prefix}0` … of everything a life may have recorded: what it said, and anything seen from it. */
function lifeIds(prefix: string, said: number, seen: Iterable<string>): string[] {
  let count = said
  for (const id of seen)
    if (id.startsWith(prefix)) count = Math.max(count, Number(id.slice(prefix.length)) + 1)
  return Array.from({ length: count }, (_, n) => `${prefix}${n}`)
}

interface Life {
  prefix: string
  killedAt: number
  /** Index of the first HTTP call after the kill. */
  callsBefore: number
}

describe('kill -9 and restart (accounting identity on every event)', () => {
  it('kill -9 at random moments while recording and while flushing; persisted data delivered, torn tails recovered', async () => {
    const server = await testServer()
    const dir = await tempDir()
    const ledger = new Ledger('kill -9 at random moments, restart')
    const seed = seedOf(ledger.scenario)
    const rnd = random(seed)
    console.log(`[reliability] ${ledger.scenario}: seed ${seed}`)
    const faults: (Fault | null)[] = [null, { type: 'slow', delayMs: 150 }, { type: 'down' }]
    const lives: Life[] = []
    let torn = 0
    let tornReported = 0
    for (let life = 0; life < LIVES; life++) {
      const prefix = `L${life}_`
      server.setFault(faults[life % faults.length]!)
      const spec: DriverSpec = { mode: 'record', prefix, config: config(dir), devices: 7, batch: 10 }
      const driver = startDriver(server, spec, ledger)
      await started(driver)
      await sleep(200 + Math.floor(rnd() * 1_000))
      const killedAt = Date.now()
      driver.child.kill('SIGKILL')
      await driver.exit
      lives.push({ prefix, killedAt, callsBefore: server.requests.length })
      server.setFault(null)
      // Restarting reads what the journal holds; a crash mid-write leaves a torn last record.
      let tornIds: string[] = []
      if (faults[life % faults.length]?.type !== 'slow') {
        const [journal] = await journalsUnder(dir)
        if (journal) tornIds = await tearLastRecord(journal)
      }
      const persisted = await persistedIds(dir)
      const received = new Set(receivedIds(server))
      const ids = lifeIds(prefix, recordedTotal(driver), [...received, ...persisted, ...tornIds])
      ledger.addRecorded(ids)
      const safe = recordedBy(driver, killedAt - SAFE_MARGIN_MS)
      const lost = ids.filter((id) => !received.has(id) && !persisted.has(id) && !tornIds.includes(id))
      // Only what was recorded within the last flush interval before the kill may die with the process.
      expect(lost.filter((id) => Number(id.slice(prefix.length)) < safe)).toEqual([])
      ledger.noteLost(lost)
      if (tornIds.length > 0) {
        torn++
        // A torn record is reported as corrupted; its events are lost unless a call had delivered them.
        ledger.noteDroppedIds(
          'invalid',
          tornIds.filter((id) => !received.has(id)),
        )
      }
      // The next life (or the final drain) reports the torn record as corrupted.
      const next = startDriver(server, { mode: 'drain', prefix: `R${life}_`, config: config(dir) }, ledger)
      await next.done
      tornReported += next.drops
        .filter((drop) => drop.reason === 'invalid')
        .reduce((sum, drop) => sum + drop.requests, 0)
    }
    expect(tornReported).toBe(torn)

    // Re-sent after a restart: only what a killed life had in flight (or delivered without having
    // written the removal yet); its re-send is absorbed unless it carried several requests of a device.
    const resent = resentRequests(server, (index) => lives.some((life) => index < life.callsBefore))
    const resentFrom = new Map<number, Set<number>>()
    const first = new Map<string, number>()
    for (const item of server.items) {
      if (item.outcome !== 'processed' && item.outcome !== 'duplicate') continue
      const key = `${item.device_id}:${String(item.params.timestamp)}`
      const earlier = first.get(key)
      if (earlier === undefined) first.set(key, item.requestIndex)
      else {
        const life = lives.findIndex((l) => earlier < l.callsBefore)
        resentFrom.set(life, (resentFrom.get(life) ?? new Set()).add(earlier))
      }
    }
    for (const calls of resentFrom.values()) expect(calls.size).toBeLessThanOrEqual(1)
    ledger.summary(
      server,
      {
        lives: LIVES,
        tornRecords: torn,
        resentCalls: [...resentFrom.values()].reduce((n, calls) => n + calls.size, 0),
        resentNotAbsorbed: resent.inLostMultiRequestCall.requests,
      },
      resent.absorbed,
    )
    expect(resent.unexplained).toEqual([])
    expect(ledger.problems(server, { ...resent, unconfirmed: [] })).toEqual([])
    expect(server.violations).toEqual([])
  })

  it('a byte-corrupted journal: every valid record delivered, the damaged ones reported', async () => {
    const server = await testServer()
    const dir = await tempDir()
    const ledger = new Ledger('byte-corrupted journal')
    const rnd = random(seedOf(ledger.scenario))
    server.setFault({ type: 'down' })
    const total = scaled(600, 6_000)
    const first = startDriver(
      server,
      {
        mode: 'record',
        prefix: 'c',
        config: config(dir),
        devices: 50,
        batch: 20,
        total,
        shutdownTimeoutMs: 300,
      },
      ledger,
    )
    await first.done
    ledger.addRecorded(lifeIds('c', total, []))
    const [journal] = await journalsUnder(dir)
    const damaged = await corruptRecords(journal!, scaled(5, 50), rnd)
    ledger.noteDroppedIds('invalid', damaged.ids)
    server.setFault(null)
    const drain = startDriver(server, { mode: 'drain', prefix: 'r', config: config(dir) }, ledger)
    await drain.done
    const reported = drain.drops.filter((d) => d.reason === 'invalid').reduce((n, d) => n + d.requests, 0)
    expect(reported).toBe(damaged.records)
    ledger.summary(server, { damagedRecords: damaged.records })
    expect(ledger.problems(server)).toEqual([])
    expect(server.violations).toEqual([])
  })
})
