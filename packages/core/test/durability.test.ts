import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { TestServer } from '@telemeter/testkit'
import { describe, expect, it } from 'vitest'
import { APP_KEY, sleep, tempDir, testServer } from './helpers.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/recorder.mjs', import.meta.url))
const FLUSH_INTERVAL_MS = 100

interface Progress {
  at: number
  recorded: number
}

function startRecorder(
  server: TestServer,
  dir: string,
  mode: 'record' | 'drain',
): { child: ChildProcess; progress: Progress[]; output: Promise<string> } {
  const child = spawn(process.execPath, [FIXTURE, server.url, APP_KEY, dir, mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const progress: Progress[] = []
  let text = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    const at = Date.now()
    text += chunk.toString()
    for (const line of chunk.toString().split('\n')) {
      const recorded = Number(line)
      if (line && Number.isFinite(recorded)) progress.push({ at, recorded })
    }
  })
  const output = once(child, 'exit').then(() => text)
  return { child, progress, output }
}

/** Events recorded (as reported by the child) more than one flush interval (plus write latency) before `killedAt`. */
function safelyRecorded(progress: Progress[], killedAt: number): number {
  const margin = FLUSH_INTERVAL_MS + 150
  return progress.filter((p) => p.at <= killedAt - margin).at(-1)?.recorded ?? 0
}

function received(server: TestServer): number[] {
  return server.events({ key: 'seq' }).map((event) => Number(event.segmentation.n))
}

async function killAndRestart(server: TestServer, dir: string, runMs: number, beforeKill?: () => void) {
  const recorder = startRecorder(server, dir, 'record')
  while (recorder.progress.length === 0) await sleep(10)
  await sleep(runMs)
  beforeKill?.()
  const killedAt = Date.now()
  recorder.child.kill('SIGKILL')
  await recorder.output
  const firstLife = received(server)
  const safe = safelyRecorded(recorder.progress, killedAt)
  server.setFault(null)
  const drain = startRecorder(server, dir, 'drain')
  await drain.output
  return { firstLife, safe, all: received(server) }
}

describe('crash safety (kill -9 of a real child process)', () => {
  it('delivers, after restart, every event recorded more than one flush interval before the kill, while delivering', async () => {
    for (const runMs of [350, 700, 1_100]) {
      const server = await testServer()
      const dir = await tempDir()
      const { firstLife, safe, all } = await killAndRestart(server, dir, runMs)
      expect(safe).toBeGreaterThan(0)
      expect(new Set(firstLife).size).toBe(firstLife.length)
      const delivered = new Set(all)
      for (let n = 0; n < safe; n++) expect(delivered.has(n), `event ${n} of ${safe}`).toBe(true)
      expect(server.violations).toEqual([])
    }
  })

  it('keeps everything recorded while the server is down and delivers it after restart', async () => {
    const server = await testServer()
    server.setFault({ type: 'down' })
    const dir = await tempDir()
    const { firstLife, safe, all } = await killAndRestart(server, dir, 800)
    expect(firstLife).toEqual([])
    expect(safe).toBeGreaterThan(100)
    const delivered = new Set(all)
    for (let n = 0; n < safe; n++) expect(delivered.has(n), `event ${n}`).toBe(true)
    expect(all.length).toBe(delivered.size)
  })

  it('recovers when killed mid-flush against a slow server, without duplicates beyond what the server absorbs', async () => {
    const server = await testServer()
    server.setFault({ type: 'slow', delayMs: 150 })
    const dir = await tempDir()
    const { safe, all } = await killAndRestart(server, dir, 900)
    const delivered = new Set(all)
    for (let n = 0; n < safe; n++) expect(delivered.has(n), `event ${n}`).toBe(true)
    // A batch in flight at the kill may reach the server again after restart, with its original
    // timestamps (the server's duplicate check absorbs the last request of each device). Nothing
    // else may arrive twice: every duplicate belongs to one single HTTP request of the first life.
    const seen = new Map<string, number>()
    const duplicatedFrom = new Set<number>()
    for (const item of server.items.filter((i) => i.outcome === 'processed' && i.params.events)) {
      const key = `${item.device_id}:${item.params.timestamp}`
      const first = seen.get(key)
      if (first === undefined) seen.set(key, item.requestIndex)
      else duplicatedFrom.add(first)
    }
    expect(duplicatedFrom.size).toBeLessThanOrEqual(1)
  })
})
