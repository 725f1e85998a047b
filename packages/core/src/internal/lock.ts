import { mkdir, open, readFile, unlink } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'

const LOCK_FILE = 'lock'
export const MAX_STORAGE_SLOTS = 16

/** Directories locked by this process (two instances in one process must not share one either). */
const heldInProcess = new Set<string>()

interface LockContent {
  pid: number
  host: string
  createdAt: number
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function readLock(path: string): Promise<LockContent | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockContent
  } catch {
    return undefined
  }
}

/**
 * Take the lock of one storage directory. A lock left by a dead process
 * (kill -9) on this host is stale and taken over; a lock of a live process, or
 * of another host (a shared volume), is respected.
 */
export async function tryLock(dir: string): Promise<boolean> {
  const absolute = resolve(dir)
  if (heldInProcess.has(absolute)) return false
  await mkdir(absolute, { recursive: true })
  const path = join(absolute, LOCK_FILE)
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx')
      const content: LockContent = { pid: process.pid, host: hostname(), createdAt: Date.now() }
      await handle.writeFile(JSON.stringify(content))
      await handle.close()
      heldInProcess.add(absolute)
      return true
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const holder = await readLock(path)
    // Unreadable right after creation means another process is writing it: retry.
    if (!holder) {
      await new Promise((done) => setTimeout(done, 20))
      continue
    }
    if (holder.host === hostname() && holder.pid !== process.pid && !isAlive(holder.pid)) {
      await unlink(path).catch(() => {})
      continue
    }
    return false
  }
  return false
}

export async function unlock(dir: string): Promise<void> {
  const absolute = resolve(dir)
  if (!heldInProcess.delete(absolute)) return
  await unlink(join(absolute, LOCK_FILE)).catch(() => {})
}

/**
 * The directory this process will use under `root`: the root itself, else the
 * first free `instance-<n>` sub-directory (documented: a second process on one
 * storage path gets its own sub-directory, found again after a restart).
 */
export async function acquireStorageDir(root: string): Promise<string | undefined> {
  if (await tryLock(root)) return root
  for (let slot = 1; slot < MAX_STORAGE_SLOTS; slot++) {
    const dir = join(root, `instance-${slot}`)
    if (await tryLock(dir)) return dir
  }
  return undefined
}
