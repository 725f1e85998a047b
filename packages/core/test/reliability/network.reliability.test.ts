import type { Fault, TestServer } from '@telemeter/testkit'
import { describe, expect, it } from 'vitest'
import type { Telemeter, TelemeterConfig } from '../../src/index.js'
import { setup, sleep } from '../helpers.js'
import { answerLost, Ledger, random, receivedIds, resentRequests, scaled, seedOf } from './support.js'

/**
 * Network faults against a live test server. Each scenario records
 * identified events over many devices (with sessions around some of them,
 * so devices carry several kinds of requests) while the fault is on, clears
 * it, delivers, and checks the accounting identity on every id.
 */

const DEVICES = scaled(40, 400)
const EVENTS = scaled(2_000, 40_000)
const FAULT_MS = scaled(1_500, 15_000)

interface Run {
  server: TestServer
  telemeter: Telemeter
  ledger: Ledger
  rnd: () => number
}

async function start(name: string, config: Partial<TelemeterConfig> = {}): Promise<Run> {
  const { server, telemeter } = await setup({ deviceId: 'own', ...config }, { sessionCooldownS: 0 })
  const ledger = new Ledger(name)
  ledger.watch(telemeter)
  const seed = seedOf(name)
  console.log(`[reliability] ${name}: seed ${seed}`)
  return { server, telemeter, ledger, rnd: random(seed) }
}

/** Record EVENTS events spread over `ms`, on DEVICES devices, a session around each device's activity. */
async function record(run: Run, ms: number): Promise<void> {
  const ticks = Math.max(1, Math.round(ms / 10))
  const perTick = Math.ceil(EVENTS / ticks)
  let recorded = 0
  for (let tick = 0; tick < ticks && recorded < EVENTS; tick++) {
    for (let i = 0; i < perTick && recorded < EVENTS; i++, recorded++) {
      const device = Math.floor(run.rnd() * DEVICES)
      const scope = run.telemeter.forDevice(`d${device}`)
      if (recorded < DEVICES) scope.beginSession()
      run.ledger.event(scope)
    }
    await sleep(10)
  }
  for (let device = 0; device < DEVICES; device++) run.telemeter.forDevice(`d${device}`).endSession()
}

/** Deliver everything (the fault is off), shut down, and check the identity. */
async function settle(run: Run, notes: Record<string, number | string> = {}): Promise<void> {
  const { server, telemeter, ledger } = run
  server.setFault(null)
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    await telemeter.flush()
    const stats = telemeter.stats()
    if (stats.queued === 0 && stats.pendingEvents === 0) break
    await sleep(50)
  }
  await telemeter.shutdown({ timeoutMs: 2_000 })
  const resent = resentRequests(server, answerLost(server))
  ledger.summary(
    server,
    { ...notes, resentNotAbsorbed: resent.inLostMultiRequestCall.requests },
    resent.absorbed,
  )
  expect(resent.unexplained).toEqual([])
  expect(ledger.problems(server, resent)).toEqual([])
  expect(ledger.unnamedByReason()).toEqual({})
  expect(server.violations).toEqual([])
}

/** Apply `fault` to a share of the ingestion calls, chosen by the seeded random source. */
function sometimes(run: Run, share: number, fault: Fault): Fault {
  return { ...fault, match: (request) => request.endpoint.startsWith('/i') && run.rnd() < share }
}

describe('network faults (accounting identity on every event)', () => {
  it('server down for a while, then back: everything delivered exactly once', async () => {
    const run = await start('server down, then back')
    run.server.setFault({ type: 'down' })
    await record(run, FAULT_MS)
    expect(receivedIds(run.server)).toEqual([])
    await settle(run)
    expect(receivedIds(run.server)).toHaveLength(EVENTS)
  })

  it('5xx storm: most calls fail for a while, nothing is lost or doubled', async () => {
    const run = await start('5xx storm')
    run.server.setFault(sometimes(run, 0.7, { type: 'status', status: 503 }))
    await record(run, FAULT_MS)
    await settle(run, { failedCalls: run.server.requests.filter((r) => r.status === 503).length })
    expect(run.telemeter.stats().retried).toBeGreaterThan(0)
  })

  it('429 with Retry-After: no call before the server said, then everything delivered', async () => {
    const run = await start('429 with Retry-After')
    run.server.setFault({ type: 'rate-limit', retryAfterS: 1, times: 3 })
    await record(run, FAULT_MS)
    await settle(run)
    const ingest = run.server.requests.filter((r) => r.endpoint.startsWith('/i'))
    for (let i = 0; i < ingest.length - 1; i++) {
      if (ingest[i]!.status !== 429) continue
      // Calls already in flight may still land; the next call STARTED after the 429 waits a second.
      const later = ingest.slice(i + 1).filter((r) => r.receivedAt > ingest[i]!.receivedAt + 50)
      if (later[0]) expect(later[0].receivedAt - ingest[i]!.receivedAt).toBeGreaterThanOrEqual(950)
    }
  })

  it('permanent 400s mixed into good traffic: refused calls are dropped and named, the queue keeps moving', async () => {
    const run = await start('permanent 400s mixed in')
    run.server.setFault(sometimes(run, 0.2, { type: 'reject', message: 'App does not exist' }))
    await record(run, FAULT_MS)
    await settle(run)
    const rejected = run.server.requests.filter((r) => r.status === 400).length
    expect(rejected).toBeGreaterThan(0)
    expect(run.telemeter.stats().dropped).toBeGreaterThan(0)
    expect(receivedIds(run.server).length).toBeGreaterThan(0)
  })

  it('slow answers past the request timeout: retried, and the server absorbs what it already had', async () => {
    const run = await start('slow answers past the timeout', { requestTimeoutMs: 150 })
    run.server.setFault(sometimes(run, 0.3, { type: 'slow', delayMs: 400 }))
    await record(run, FAULT_MS)
    await settle(run)
    expect(run.telemeter.stats().retried).toBeGreaterThan(0)
  })

  it('connections reset before and after processing: delivered once, re-sends absorbed', async () => {
    const run = await start('connections reset mid-response')
    const before = sometimes(run, 0.2, { type: 'reset' })
    const after = sometimes(run, 0.2, { type: 'reset-after-processing' })
    const switcher = setInterval(() => run.server.setFault(run.rnd() < 0.5 ? before : after), 50)
    try {
      await record(run, FAULT_MS)
    } finally {
      clearInterval(switcher)
    }
    await settle(run)
    expect(run.server.requests.some((r) => r.fault === 'reset' || r.fault === 'reset-after-processing')).toBe(
      true,
    )
  })
})
