import { existsSync } from 'node:fs'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { decodeLine, replay } from '../../src/internal/journal.js'
import { idsInParams } from './support.js'

/** Every journal of a storage path: the root's and those of its `instance-<n>` slots. */
export async function journalsUnder(dir: string): Promise<string[]> {
  const slots = existsSync(dir) ? (await readdir(dir)).filter((name) => name.startsWith('instance-')) : []
  return ['', ...slots].map((slot) => join(dir, slot, 'queue.journal')).filter((path) => existsSync(path))
}

/** Event ids in the live (appended, not removed, readable) records of every journal under `dir`. */
export async function persistedIds(dir: string): Promise<Set<string>> {
  const ids = new Set<string>()
  for (const path of await journalsUnder(dir)) {
    const { requests } = await replay(await readFile(path, 'utf8'))
    for (const request of requests.values())
      for (const id of idsInParams([JSON.parse(request.body) as Record<string, unknown>])) ids.add(id)
  }
  return ids
}

/**
 * Tear the last complete append record of `path` in half, as a write cut
 * short by a crash would (no newline after it). Returns the ids it held.
 */
export async function tearLastRecord(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8')
  const end = text.endsWith('\n') ? text.length - 1 : text.lastIndexOf('\n')
  const start = text.lastIndexOf('\n', end - 1) + 1
  const record = decodeLine(text.slice(start, end))
  if (record?.op !== 'append') return []
  await writeFile(path, text.slice(0, start + Math.floor((end - start) / 2)))
  return idsInParams([JSON.parse(record.request.body) as Record<string, unknown>])
}

/**
 * Change one byte inside each of `count` append records picked by `pick`
 * (never a tab or newline, so every other record stays intact). Returns the
 * ids of the damaged records.
 */
export async function corruptRecords(
  path: string,
  count: number,
  pick: () => number,
): Promise<{ ids: string[]; records: number }> {
  const lines = (await readFile(path, 'utf8')).split('\n')
  const appends = lines.flatMap((line, index) => (decodeLine(line)?.op === 'append' ? [index] : []))
  const chosen = new Set<number>()
  while (chosen.size < Math.min(count, appends.length))
    chosen.add(appends[Math.floor(pick() * appends.length)]!)
  const ids: string[] = []
  for (const index of chosen) {
    const line = lines[index]!
    const record = decodeLine(line)
    if (record?.op === 'append') ids.push(...idsInParams([JSON.parse(record.request.body) as never]))
    // Somewhere past the "A\t": the id, the feature, the CRC or the body.
    const at = 2 + Math.floor(pick() * (line.length - 2))
    const replacement = line[at] === 'x' ? 'y' : 'x'
    lines[index] = line.slice(0, at) + replacement + line.slice(at + 1)
  }
  await writeFile(path, lines.join('\n'))
  return { ids, records: chosen.size }
}
