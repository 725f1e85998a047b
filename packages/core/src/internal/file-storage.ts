import {
  appendFileSync,
  createReadStream,
  createWriteStream,
  mkdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs'
import { type FileHandle, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { StorageAdapter, StoredData, StoredRequest } from '../types.js'
import { decodeLine, encodeAppend, encodeRemove, replay } from './journal.js'
import { acquireStorageDir, MAX_STORAGE_SLOTS, tryLock, unlock } from './lock.js'
import type { TelemeterLogger } from './logger.js'

const JOURNAL_FILE = 'queue.journal'
const VALUES_FILE = 'state.json'
/** Shared by every process on one storage path: the installation's device id. */
const DEVICE_ID_FILE = 'device-id'
export const DEVICE_ID_KEY = 'deviceId'
/** Written synchronously by a process dying before its storage was open; adopted by the next start. */
const EMERGENCY_PREFIX = 'emergency-'
const EMERGENCY_SUFFIX = '.journal'
const COMPACT_MIN_BYTES = 1 << 20
const COMPACT_MIN_REMOVED = 1_000
/** Compact once removed records outnumber live ones this many times (a draining queue is not rewritten over and over). */
const COMPACT_DEAD_RATIO = 4
/** Appends are encoded and written in pieces of about this many characters, so a large batch never stalls the event loop. */
const WRITE_SLICE_CHARS = 256 * 1024

/**
 * The default storage: an append-only journal (`queue.journal`) that is
 * compacted by rewriting live records to a temporary file and renaming it
 * over the old one, plus a small `state.json` replaced atomically. Nothing
 * rewrites the whole queue per change.
 */
export class FileStorage implements StorageAdapter {
  private dir: string | undefined
  private journal: FileHandle | undefined
  private journalBytes = 0
  private readonly live = new Set<number>()
  private removedSinceCompaction = 0
  private values: Record<string, string> = {}

  constructor(
    private readonly root: string,
    private readonly logger: TelemeterLogger,
  ) {}

  /** The directory in use (the root, or an `instance-<n>` slot under it). */
  get directory(): string | undefined {
    return this.dir
  }

  async open(): Promise<StoredData> {
    const dir = await acquireStorageDir(this.root)
    if (!dir) throw new Error(`every storage slot under ${this.root} is locked by a running process`)
    this.dir = dir
    if (dir !== this.root) {
      this.logger.warn(
        `storage path ${this.root} is in use by another running process; this process keeps its queue in ${dir}`,
      )
    }
    this.values = await this.readValues()
    const deviceId = await readFile(join(this.root, DEVICE_ID_FILE), 'utf8').catch(() => '')
    if (deviceId.trim()) this.values[DEVICE_ID_KEY] = deviceId.trim()

    const text = await readFile(join(dir, JOURNAL_FILE), 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return ''
      throw error
    })
    const { requests, corruptRecords, removedRecords } = await replay(text)
    const list = [...requests.values()].sort((a, b) => a.id - b.id)
    const adopted = await this.adoptEmergencyFiles(list)
    for (const request of list) this.live.add(request.id)
    // Never append after a torn tail or a damaged record: start those from a clean
    // journal (as one that is mostly removed records). A clean journal is kept as it is.
    const rewritten =
      adopted.files.length > 0 || corruptRecords > 0 || (removedRecords > 0 && removedRecords >= list.length)
    if (rewritten) await this.rewrite(list)
    // Only once their records are safely in the journal.
    for (const file of adopted.files) await rm(file, { force: true })
    this.journal = await open(join(dir, JOURNAL_FILE), 'a')
    this.journalBytes = (await stat(join(dir, JOURNAL_FILE))).size
    if (!rewritten) this.removedSinceCompaction = removedRecords
    return { requests: list, values: { ...this.values }, corruptRecords: corruptRecords + adopted.corrupt }
  }

  /**
   * Claim (by an atomic rename, so two starting processes never both take
   * one) the files a process that died before its storage opened wrote
   * synchronously, and append their records with fresh ids.
   */
  private async adoptEmergencyFiles(list: StoredRequest[]): Promise<{ files: string[]; corrupt: number }> {
    const names = (await readdir(this.root).catch(() => [] as string[])).filter(
      (name) => name.startsWith(EMERGENCY_PREFIX) && name.endsWith(EMERGENCY_SUFFIX),
    )
    // Claimed by an earlier holder of this directory that died before they reached its journal.
    const files = (await readdir(this.dir!).catch(() => [] as string[]))
      .filter((name) => name.startsWith('claimed-') && name.endsWith(EMERGENCY_SUFFIX))
      .map((name) => join(this.dir!, name))
    let corrupt = 0
    let nextId = (list.at(-1)?.id ?? 0) + 1
    for (const name of names) {
      const claimed = join(this.dir!, `claimed-${process.pid}-${name}`)
      try {
        await rename(join(this.root, name), claimed)
      } catch {
        continue
      }
      files.push(claimed)
    }
    // The root's holder also takes the journals of slots no running process holds (a second
    // process of an earlier run): a lone process would otherwise never deliver them.
    if (this.dir === this.root) files.push(...(await this.claimIdleSlots()))
    for (const claimed of files) {
      const replayed = await replay(await readFile(claimed, 'utf8'))
      corrupt += replayed.corruptRecords
      for (const request of [...replayed.requests.values()].sort((a, b) => a.id - b.id)) {
        list.push({ ...request, id: nextId++ })
      }
    }
    if (files.length > 0)
      this.logger.notice(`recovered ${files.length} queue file(s) left by other processes under ${this.root}`)
    return { files, corrupt }
  }

  /** Move the journal of every `instance-<n>` slot whose lock is free into this directory. */
  private async claimIdleSlots(): Promise<string[]> {
    const claimed: string[] = []
    for (let slot = 1; slot < MAX_STORAGE_SLOTS; slot++) {
      const dir = join(this.root, `instance-${slot}`)
      const journal = join(dir, JOURNAL_FILE)
      if (
        !(await stat(journal).then(
          (info) => info.size > 0,
          () => false,
        ))
      )
        continue
      if (!(await tryLock(dir).catch(() => false))) continue
      try {
        const target = join(this.dir!, `claimed-${process.pid}-instance-${slot}${EMERGENCY_SUFFIX}`)
        await rename(journal, target)
        claimed.push(target)
      } catch {
        // Taken meanwhile or unreadable: left where it is.
      } finally {
        await unlock(dir)
      }
    }
    return claimed
  }

  /**
   * The installation's device id for a process dying before its storage
   * opened: the stored one, else `generated`, stored now (synchronously).
   */
  emergencyDeviceId(generated: string): { id: string; stored: boolean } {
    try {
      const stored = readFileSync(join(this.root, DEVICE_ID_FILE), 'utf8').trim()
      if (stored) return { id: stored, stored: true }
    } catch {
      // none yet
    }
    try {
      mkdirSync(this.root, { recursive: true })
      writeFileSync(join(this.root, DEVICE_ID_FILE), generated, { flag: 'wx' })
    } catch {
      // another process won the race or the disk is gone: the id still identifies the crash
    }
    return { id: generated, stored: false }
  }

  async append(requests: readonly StoredRequest[]): Promise<void> {
    if (!this.journal || requests.length === 0) return
    let chunk = ''
    for (const request of requests) {
      chunk += encodeAppend(request)
      this.live.add(request.id)
      if (chunk.length >= WRITE_SLICE_CHARS) {
        await this.write(chunk)
        chunk = ''
      }
    }
    if (chunk !== '') await this.write(chunk)
  }

  async remove(ids: readonly number[]): Promise<void> {
    if (!this.journal || ids.length === 0) return
    const known = ids.filter((id) => this.live.delete(id))
    if (known.length === 0) return
    if (this.live.size === 0) {
      // Nothing left: start the journal over instead of recording the removal.
      await this.journal.truncate(0)
      this.journalBytes = 0
      this.removedSinceCompaction = 0
      return
    }
    await this.write(encodeRemove(known))
    this.removedSinceCompaction += known.length
    if (
      this.journalBytes >= COMPACT_MIN_BYTES &&
      this.removedSinceCompaction >= COMPACT_MIN_REMOVED &&
      this.removedSinceCompaction > COMPACT_DEAD_RATIO * this.live.size
    ) {
      await this.compact()
    }
  }

  /**
   * For a dying process only: the one place this storage writes
   * synchronously. Before the storage is open (no lock yet) the records go
   * to an emergency file the next start adopts.
   */
  appendSync(requests: readonly StoredRequest[]): void {
    if (requests.length === 0) return
    let chunk = ''
    for (const request of requests) {
      chunk += encodeAppend(request)
      if (this.dir) this.live.add(request.id)
    }
    if (this.dir) {
      appendFileSync(join(this.dir, JOURNAL_FILE), chunk)
      return
    }
    mkdirSync(this.root, { recursive: true })
    appendFileSync(join(this.root, `${EMERGENCY_PREFIX}${process.pid}${EMERGENCY_SUFFIX}`), chunk)
  }

  async setValue(key: string, value: string | null): Promise<void> {
    if (!this.dir) return
    if (key === DEVICE_ID_KEY) {
      if (value === null) await rm(join(this.root, DEVICE_ID_FILE), { force: true })
      else await atomicWrite(join(this.root, DEVICE_ID_FILE), value)
      return
    }
    if (value === null) delete this.values[key]
    else this.values[key] = value
    await atomicWrite(join(this.dir, VALUES_FILE), JSON.stringify(this.values))
  }

  async close(): Promise<void> {
    const journal = this.journal
    this.journal = undefined
    await journal?.close().catch(() => {})
    if (this.dir) await unlock(this.dir)
  }

  private async write(chunk: string): Promise<void> {
    if (!this.journal) return
    const buffer = Buffer.from(chunk, 'utf8')
    await this.journal.write(buffer)
    this.journalBytes += buffer.length
  }

  private async readValues(): Promise<Record<string, string>> {
    try {
      const parsed = JSON.parse(await readFile(join(this.dir!, VALUES_FILE), 'utf8')) as unknown
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        const values: Record<string, string> = {}
        for (const [key, value] of Object.entries(parsed)) if (typeof value === 'string') values[key] = value
        return values
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.warn(`${VALUES_FILE} in ${this.dir} was unreadable and is reset`)
      }
    }
    return {}
  }

  /** Replace the journal with exactly `requests`, atomically. */
  private async rewrite(requests: readonly StoredRequest[]): Promise<void> {
    const path = join(this.dir!, JOURNAL_FILE)
    const tmp = `${path}.tmp`
    let text = ''
    for (const request of requests) text += encodeAppend(request)
    await writeFile(tmp, text)
    await rename(tmp, path)
    this.journalBytes = Buffer.byteLength(text)
    this.removedSinceCompaction = 0
  }

  /** Stream live records into a new journal and swap it in; memory stays flat however large the file. */
  private async compact(): Promise<void> {
    const path = join(this.dir!, JOURNAL_FILE)
    const tmp = `${path}.tmp`
    await this.journal!.close()
    const output = createWriteStream(tmp)
    let bytes = 0
    const lines = createInterface({
      input: createReadStream(path, 'utf8'),
      crlfDelay: Number.POSITIVE_INFINITY,
    })
    for await (const line of lines) {
      const record = decodeLine(line)
      if (record?.op !== 'append' || !this.live.has(record.request.id)) continue
      const text = `${line}\n`
      bytes += Buffer.byteLength(text)
      if (!output.write(text)) await new Promise<void>((done) => output.once('drain', () => done()))
    }
    await new Promise<void>((done, fail) =>
      output.end((error?: Error | null) => (error ? fail(error) : done())),
    )
    await rename(tmp, path)
    this.journal = await open(path, 'a')
    this.journalBytes = bytes
    this.removedSinceCompaction = 0
  }
}

async function atomicWrite(path: string, content: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, content)
  await rename(tmp, path)
}
