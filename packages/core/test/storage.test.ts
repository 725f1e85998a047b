import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import {
  createTelemeter,
  type StorageAdapter,
  type StoredRequest,
  type TelemeterConfig,
} from '../src/index.js'
import { APP_KEY, captureLogger, onCleanup, tempDir, testServer } from './helpers.js'

async function fileTelemeter(url: string, storagePath: string, extra: Partial<TelemeterConfig> = {}) {
  const logger = captureLogger()
  const telemeter = createTelemeter({
    url,
    appKey: APP_KEY,
    storagePath,
    sessions: 'manual',
    flushIntervalMs: 20,
    serverConfig: false,
    retry: { baseDelayMs: 20, maxDelayMs: 100 },
    debug: logger,
    ...extra,
  })
  onCleanup(() => telemeter.shutdown({ timeoutMs: 200 }))
  return { telemeter, logger }
}

describe('file storage', () => {
  it('generates a device id once, persists it and reports it as SDK-generated (t=1)', async () => {
    const server = await testServer()
    const dir = await tempDir()
    const first = await fileTelemeter(server.url, dir)
    first.telemeter.event('one')
    await first.telemeter.shutdown()
    const second = await fileTelemeter(server.url, dir)
    second.telemeter.event('two')
    await second.telemeter.flush()
    const [a, b] = server.items
    expect(a!.device_id).toMatch(/^[0-9a-f-]{36}$/)
    expect(b!.device_id).toBe(a!.device_id)
    expect(String(a!.params.t)).toBe('1')
    expect(second.telemeter.deviceId).toBe(a!.device_id)
  })

  it('keeps queued requests across a restart while the server is down', async () => {
    const server = await testServer()
    server.setFault({ type: 'down' })
    const dir = await tempDir()
    const first = await fileTelemeter(server.url, dir, { deviceId: 'persisted' })
    for (let i = 0; i < 30; i++) first.telemeter.forDevice(`u${i}`).event('queued')
    await first.telemeter.shutdown({ timeoutMs: 200 })
    expect(first.logger.lines.some((l) => l.message.includes('kept in storage for the next start'))).toBe(
      true,
    )
    server.setFault(null)
    const second = await fileTelemeter(server.url, dir, { deviceId: 'persisted' })
    await second.telemeter.flush()
    expect(server.events({ key: 'queued' })).toHaveLength(30)
    expect(second.telemeter.stats().queued).toBe(0)
  })

  it('appends to a journal and compacts it instead of rewriting the queue per change', async () => {
    const server = await testServer()
    const dir = await tempDir()
    const { telemeter } = await fileTelemeter(server.url, dir)
    const sizes: number[] = []
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 200; i++)
        telemeter.forDevice(`d${i}`).event('journal', { segmentation: { round, text: 'x'.repeat(100) } })
      await telemeter.flush()
      sizes.push((await stat(join(dir, 'queue.journal'))).size)
    }
    expect(server.events({ key: 'journal' })).toHaveLength(4_000)
    // 4000 events of ~400 bytes went through it; compaction keeps the file far below that.
    expect(Math.max(...sizes)).toBeLessThan(1_500_000)
    expect(sizes.at(-1)!).toBeLessThan(1_500_000)
  })

  it('reopens a clean journal without rewriting it and starts it over once everything is delivered', async () => {
    const server = await testServer()
    server.setFault({ type: 'down' })
    const dir = await tempDir()
    const journal = join(dir, 'queue.journal')
    const first = await fileTelemeter(server.url, dir, { deviceId: 'reopen' })
    for (let i = 0; i < 20; i++) first.telemeter.forDevice(`u${i}`).event('kept')
    await first.telemeter.flush()
    await first.telemeter.shutdown({ timeoutMs: 200 })
    const before = await stat(journal)

    const second = await fileTelemeter(server.url, dir, { deviceId: 'reopen' })
    await second.telemeter.flush()
    const reopened = await stat(journal)
    expect([reopened.ino, reopened.size]).toEqual([before.ino, before.size])

    server.setFault(null)
    await second.telemeter.flush()
    expect(server.events({ key: 'kept' })).toHaveLength(20)
    expect((await stat(journal)).size).toBe(0)
  })

  it('recovers every valid record of a torn or corrupted journal and reports the rest', async () => {
    const server = await testServer()
    const dir = await tempDir()
    const line = (id: number, n: number) => {
      const body = JSON.stringify({
        app_key: APP_KEY,
        device_id: 'rec',
        t: 0,
        timestamp: 1_700_000_000_000 + id,
        hour: 1,
        dow: 1,
        tz: 0,
        sdk_name: 'telemeter-node',
        sdk_version: '0.0.0',
        events: [
          { key: 'rec', count: 1, timestamp: 1_700_000_000_000, hour: 1, dow: 1, segmentation: { n } },
        ],
        rr: 0,
      })
      return `A\t${id}\tevents\t${crc32(`${id}\tevents\t${body}`).toString(16).padStart(8, '0')}\t${body}\n`
    }
    const corrupted = line(2, 2).replace('"n":2', '"n":9')
    await writeFile(join(dir, 'queue.journal'), line(1, 1) + corrupted + line(3, 3) + line(4, 4).slice(0, 40))
    const errors: Error[] = []
    const { telemeter, logger } = await fileTelemeter(server.url, dir, { deviceId: 'rec' })
    telemeter.on('error', (error) => errors.push(error))
    await telemeter.flush()
    expect(server.events({ key: 'rec' }).map((e) => e.segmentation.n)).toEqual([1, 3])
    expect(logger.warnings().some((w) => w.includes('2 unreadable queue record(s)'))).toBe(true)
    expect(errors.map((e) => e.message)).toEqual(['2 corrupted queue record(s) discarded on recovery'])
  })

  it('gives a second user of one storage path its own sub-directory, and both deliver', async () => {
    const server = await testServer()
    const dir = await tempDir()
    const a = await fileTelemeter(server.url, dir, { deviceId: 'a' })
    a.telemeter.event('from-a')
    await a.telemeter.flush()
    const b = await fileTelemeter(server.url, dir, { deviceId: 'b' })
    b.telemeter.event('from-b')
    await b.telemeter.flush()
    expect(b.logger.warnings().some((w) => w.includes('instance-1'))).toBe(true)
    expect((await readdir(dir)).sort()).toContain('instance-1')
    expect(
      server
        .events()
        .map((e) => e.key)
        .sort(),
    ).toEqual(['from-a', 'from-b'])
    const lock = JSON.parse(await readFile(join(dir, 'lock'), 'utf8')) as { pid: number }
    expect(lock.pid).toBe(process.pid)
  })

  it('a process starting alone takes over the queue a second process left in its sub-directory', async () => {
    const server = await testServer()
    server.setFault({ type: 'down' })
    const dir = await tempDir()
    const a = await fileTelemeter(server.url, dir, { deviceId: 'a' })
    const b = await fileTelemeter(server.url, dir, { deviceId: 'b' })
    a.telemeter.event('left-by-a')
    b.telemeter.event('left-by-b')
    await a.telemeter.flush()
    await b.telemeter.flush()
    await a.telemeter.shutdown({ timeoutMs: 100 })
    await b.telemeter.shutdown({ timeoutMs: 100 })
    server.setFault(null)
    const alone = await fileTelemeter(server.url, dir, { deviceId: 'a' })
    await alone.telemeter.flush()
    expect(
      server
        .events()
        .map((e) => e.key)
        .sort(),
    ).toEqual(['left-by-a', 'left-by-b'])
    expect(alone.logger.lines.some((l) => l.message.includes('recovered 1 queue file(s)'))).toBe(true)
  })

  it('degrades to memory with one warning when the storage adapter fails', async () => {
    const server = await testServer()
    let appends = 0
    const failing: StorageAdapter = {
      async open() {
        return { requests: [], values: {} }
      },
      async append() {
        appends++
        throw new Error('disk full')
      },
      async remove() {},
      async setValue() {},
      async close() {},
    }
    const { telemeter, logger } = await fileTelemeter(server.url, '', { storage: failing, deviceId: 'mem' })
    server.setFault({ type: 'down' })
    for (let i = 0; i < 5; i++) {
      telemeter.event('still-works')
      await new Promise((resolve) => setTimeout(resolve, 40))
    }
    server.setFault(null)
    await telemeter.flush()
    expect(server.events({ key: 'still-works' })).toHaveLength(5)
    expect(logger.warnings().filter((w) => w.includes('storage failed'))).toHaveLength(1)
    expect(appends).toBe(1)
  })

  it('works with a custom StorageAdapter (restores its requests in order)', async () => {
    const server = await testServer()
    const stored: StoredRequest[] = []
    const adapter: StorageAdapter = {
      async open() {
        return { requests: [...stored], values: { deviceId: 'custom-device' } }
      },
      async append(requests) {
        stored.push(...requests)
      },
      async remove(ids) {
        for (const id of ids)
          stored.splice(
            stored.findIndex((r) => r.id === id),
            1,
          )
      },
      async setValue() {},
      async close() {},
    }
    server.setFault({ type: 'down' })
    const first = await fileTelemeter(server.url, '', { storage: adapter })
    first.telemeter.event('custom', { segmentation: { n: 1 } })
    first.telemeter.event('custom', { segmentation: { n: 2 } })
    await first.telemeter.shutdown({ timeoutMs: 100 })
    expect(stored.length).toBe(1)
    server.setFault(null)
    const second = await fileTelemeter(server.url, '', { storage: adapter })
    await second.telemeter.flush()
    expect(server.events({ key: 'custom' }).map((e) => [e.device_id, e.segmentation.n])).toEqual([
      ['custom-device', 1],
      ['custom-device', 2],
    ])
    expect(stored).toEqual([])
  })
})
