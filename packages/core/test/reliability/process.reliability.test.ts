import type { Fault } from '@telemeter/testkit'
import { describe, expect, it } from 'vitest'
import type { TelemeterConfig } from '../../src/index.js'
import { sleep, tempDir, testServer } from '../helpers.js'
import { startDriver, started } from './child.js'
import { answerLost, Ledger, resentRequests, scaled } from './support.js'

/**
 * The host process's side: SIGTERM under load, and a hostile server
 * (oversized, non-JSON, never-ending answers). A real child process runs the
 * build, so its exit code, its timing and its peak memory are its own.
 */

/** Slack over `timeoutMs` for the process to be scheduled and write its line (2 shared cores). */
const SCHEDULING_SLACK_MS = 250
const MB = 1024 * 1024

function config(extra: Partial<TelemeterConfig>): Partial<TelemeterConfig> {
  return {
    deviceId: 'host',
    sessions: 'manual',
    flushIntervalMs: 50,
    serverConfig: false,
    retry: { baseDelayMs: 50, maxDelayMs: 300 },
    ...extra,
  }
}

describe('the host process (accounting identity on every event)', () => {
  for (const storage of ['file', 'memory'] as const) {
    it(`SIGTERM during load (${storage} storage): shutdown({ timeoutMs }) returns in time and the process exits 0`, async () => {
      const server = await testServer()
      const dir = await tempDir()
      const ledger = new Ledger(`SIGTERM during load, ${storage} storage`)
      const timeoutMs = 1_000
      const delayMs = 400
      server.setFault({ type: 'slow', delayMs })
      const driver = startDriver(
        server,
        {
          mode: 'record',
          prefix: 's',
          config: config({ storage, storagePath: dir, requestTimeoutMs: 5_000 }),
          devices: 500,
          batch: 200,
          everyMs: 10,
          shutdownTimeoutMs: timeoutMs,
        },
        ledger,
      )
      await started(driver)
      await sleep(scaled(1_500, 10_000))
      driver.child.kill('SIGTERM')
      const [shutdown, exit] = await Promise.all([driver.shutdown, driver.exit])
      expect(exit).toEqual({ code: 0, signal: null })
      // The host's own `dropped` listener (reading every payload) runs inside shutdown(): not Telemeter's time.
      expect(shutdown.ms - shutdown.listenerMs).toBeLessThanOrEqual(timeoutMs + SCHEDULING_SLACK_MS)
      ledger.addRecorded(Array.from({ length: shutdown.recorded }, (_, n) => `s${n}`))
      // What could not be delivered in time is on disk (file) or reported as dropped (memory).
      server.setFault(null)
      if (storage === 'file') {
        const drain = startDriver(
          server,
          { mode: 'drain', prefix: 'r', config: config({ storagePath: dir }) },
          ledger,
        )
        await drain.done
      }
      // Answers still on their way when shutdown() aborted the calls at its deadline were never read.
      const resent = resentRequests(server, (index) => {
        const request = server.requests[index]
        const deadline = shutdown.at - shutdown.ms + timeoutMs
        return request !== undefined && request.receivedAt + delayMs >= deadline - SCHEDULING_SLACK_MS
      })
      ledger.summary(
        server,
        {
          shutdownMs: shutdown.ms,
          listenerMs: Math.round(shutdown.listenerMs),
          timeoutMs,
          resentNotAbsorbed: resent.inLostMultiRequestCall.requests,
        },
        resent.absorbed,
      )
      expect(resent.unexplained).toEqual([])
      expect(ledger.problems(server, resent)).toEqual([])
      expect(server.violations).toEqual([])
    })
  }

  it('a hostile server (oversized, non-JSON, never-ending answers) cannot exhaust memory or hang shutdown()', async () => {
    const server = await testServer()
    const ledger = new Ledger('hostile server')
    const timeoutMs = 1_000
    const hostile: Fault[] = [
      { type: 'oversized-response', bytes: 64 * MB },
      { type: 'non-json' },
      { type: 'never-ending' },
    ]
    const driver = startDriver(
      server,
      {
        mode: 'record',
        prefix: 'h',
        config: config({ storage: 'memory', requestTimeoutMs: 300 }),
        devices: 50,
        batch: 10,
        everyMs: 10,
        total: scaled(2_000, 20_000),
        shutdownTimeoutMs: timeoutMs,
      },
      ledger,
    )
    await started(driver)
    // Cycle through the faults while the child records; end on a never-ending answer for shutdown().
    let round = 0
    while (driver.progress.at(-1)!.n < scaled(1_800, 19_000)) {
      server.setFault(hostile[round++ % hostile.length]!)
      await sleep(300)
    }
    server.setFault({ type: 'never-ending' })
    const done = await driver.done
    const exit = await driver.exit
    expect(exit.code).toBe(0)
    expect(done.shutdownMs).toBeLessThanOrEqual(timeoutMs + SCHEDULING_SLACK_MS)
    // Answers are read up to 1 MiB: 64 MiB answers leave no trace in the host's memory.
    expect(done.peakRss).toBeLessThan(160 * MB)
    ledger.addRecorded(Array.from({ length: done.recorded }, (_, n) => `h${n}`))
    const resent = resentRequests(server, answerLost(server, ['oversized-response', 'never-ending']))
    ledger.summary(
      server,
      {
        shutdownMs: done.shutdownMs,
        peakRssMB: Math.round(done.peakRss / MB),
        hostileAnswers: server.requests.filter((r) => r.fault !== undefined).length,
        resentNotAbsorbed: resent.inLostMultiRequestCall.requests,
      },
      resent.absorbed,
    )
    expect(resent.unexplained).toEqual([])
    expect(ledger.problems(server, resent)).toEqual([])
    expect(server.violations).toEqual([])
  })
})
