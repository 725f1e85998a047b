import * as zlib from 'node:zlib'
import type { Feature, StoredRequest } from '../types.js'

/**
 * Line format of the append-only queue journal. Each line carries a CRC-32
 * of its content, so a torn last line (kill -9 mid-write) or flipped bytes are
 * detected and skipped without losing the valid records around them.
 *
 *   A <tab> id <tab> feature <tab> crc <tab> body   a queued request
 *   D <tab> crc <tab> ranges                         requests removed ("3-9,12")
 *
 * Bodies are JSON texts, which never contain raw tabs or newlines.
 */

const crcTable = /* @__PURE__ */ (() => {
  const table = new Int32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c
  }
  return table
})()

function crc32Fallback(text: string, previous = 0): number {
  const bytes = Buffer.from(text, 'utf8')
  let crc = (previous ^ -1) | 0
  for (const byte of bytes) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8)
  return (crc ^ -1) >>> 0
}

// zlib.crc32 exists from Node 20.15; older 20.x fall back to the table.
const nativeCrc32 = (zlib as { crc32?: (data: string, value?: number) => number }).crc32
/** CRC-32 of `text` (UTF-8); pass the CRC of what precedes it to continue over a concatenation without building it. */
export const crc32: (text: string, previous?: number) => number = nativeCrc32
  ? (text, previous = 0) => nativeCrc32(text, previous)
  : crc32Fallback

function hex(value: number): string {
  return value.toString(16).padStart(8, '0')
}

/** The CRC of an append record's content: `id \t feature \t body`. */
function appendCrc(id: number | string, feature: string, body: string): number {
  return crc32(body, crc32(`${id}\t${feature}\t`))
}

export function encodeAppend(request: StoredRequest): string {
  return `A\t${request.id}\t${request.feature}\t${hex(appendCrc(request.id, request.feature, request.body))}\t${request.body}\n`
}

export function encodeRemove(ids: readonly number[]): string {
  const ranges = compressIds(ids)
  return `D\t${hex(crc32(ranges))}\t${ranges}\n`
}

export function compressIds(ids: readonly number[]): string {
  const sorted = [...ids].sort((a, b) => a - b)
  const parts: string[] = []
  let i = 0
  while (i < sorted.length) {
    const start = sorted[i]!
    let end = start
    while (i + 1 < sorted.length && sorted[i + 1]! <= end + 1) end = sorted[++i]!
    parts.push(start === end ? String(start) : `${start}-${end}`)
    i++
  }
  return parts.join(',')
}

export function expandIds(ranges: string): number[] | undefined {
  const ids: number[] = []
  for (const part of ranges.split(',')) {
    const [from, to = from] = part.split('-')
    const start = Number(from)
    const end = Number(to)
    if (
      !Number.isSafeInteger(start) ||
      !Number.isSafeInteger(end) ||
      end < start ||
      end - start > 10_000_000
    ) {
      return undefined
    }
    for (let id = start; id <= end; id++) ids.push(id)
  }
  return ids
}

export type JournalRecord =
  | { readonly op: 'append'; readonly request: StoredRequest }
  | { readonly op: 'remove'; readonly ids: number[] }

/** Decode one line (without its newline); undefined when torn or corrupted. */
export function decodeLine(line: string): JournalRecord | undefined {
  const parts = line.split('\t')
  if (parts[0] === 'A' && parts.length === 5) {
    const [, idText, feature, crc, body] = parts as [string, string, string, string, string]
    const id = Number(idText)
    if (!Number.isSafeInteger(id) || id < 0) return undefined
    if (crc.length !== 8 || Number(`0x${crc}`) !== appendCrc(idText, feature, body)) return undefined
    return { op: 'append', request: { id, feature: feature as Feature, body } }
  }
  if (parts[0] === 'D' && parts.length === 3) {
    const [, crc, ranges] = parts as [string, string, string]
    if (hex(crc32(ranges)) !== crc) return undefined
    const ids = expandIds(ranges)
    return ids ? { op: 'remove', ids } : undefined
  }
  return undefined
}

export interface ReplayResult {
  readonly requests: Map<number, StoredRequest>
  readonly corruptRecords: number
  /** Appended records a later removal cancelled (dead weight until compaction). */
  readonly removedRecords: number
}

/**
 * Replay journal text. Yields to the event loop every few thousand lines so
 * recovering a large backlog never stalls the host.
 */
export async function replay(text: string): Promise<ReplayResult> {
  const requests = new Map<number, StoredRequest>()
  let corruptRecords = 0
  let removedRecords = 0
  let start = 0
  let processed = 0
  while (start < text.length) {
    const end = text.indexOf('\n', start)
    // A last line without its newline is a torn write: never trust it.
    if (end === -1) {
      corruptRecords++
      break
    }
    const line = text.slice(start, end)
    start = end + 1
    if (line === '') continue
    const record = decodeLine(line)
    if (!record) corruptRecords++
    else if (record.op === 'append') requests.set(record.request.id, record.request)
    else for (const id of record.ids) if (requests.delete(id)) removedRecords++
    if (++processed % 5_000 === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  return { requests, corruptRecords, removedRecords }
}
