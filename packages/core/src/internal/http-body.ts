import type { ServerResponse } from 'node:http'
import type { ResponseByteCount } from '../types.js'

/** Statuses whose responses never carry a body, whatever was written. */
const BODILESS_STATUSES: ReadonlySet<number> = new Set([204, 205, 304])

function chunkBytes(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') {
    const known = typeof encoding === 'string' && Buffer.isEncoding(encoding)
    return Buffer.byteLength(chunk, known ? (encoding as BufferEncoding) : 'utf8')
  }
  return ArrayBuffer.isView(chunk) ? chunk.byteLength : 0
}

/**
 * Count the body bytes written to this one response, for adapters whose
 * responses may be streamed or chunked (no Content-Length). The response's
 * own `write` and `end` shadow the prototype's for the rest of its life;
 * nothing else is touched. A HEAD request or a 204/205/304 counts 0.
 *
 * @example
 * ```ts
 * const written = countResponseBytes(res)
 * res.once('close', () => http.finish(record, { route, status: res.statusCode, responseBytes: written.bytes }))
 * ```
 */
export function countResponseBytes(res: ServerResponse): ResponseByteCount {
  let bytes = 0
  const target = res as unknown as Record<'write' | 'end', (...args: unknown[]) => unknown>
  const write = target.write
  const end = target.end
  // Forwarded with the caller's own arguments: `end(callback)` and `end(chunk, callback)` differ.
  target.write = function countedWrite(this: unknown, ...args: unknown[]) {
    bytes += chunkBytes(args[0], args[1])
    return write.apply(this, args)
  }
  target.end = function countedEnd(this: unknown, ...args: unknown[]) {
    bytes += chunkBytes(args[0], args[1])
    return end.apply(this, args)
  }
  return {
    get bytes() {
      const method = res.req?.method
      return method === 'HEAD' || BODILESS_STATUSES.has(res.statusCode) ? 0 : bytes
    },
  }
}

/**
 * A Content-Length header value as a byte count; `undefined` when absent or invalid.
 * @example contentLength(req.headers['content-length']) ?? 0
 */
export function contentLength(value: number | string | readonly string[] | undefined): number | undefined {
  const first = Array.isArray(value) ? value[0] : value
  const length = typeof first === 'string' && first !== '' ? Number(first) : first
  return typeof length === 'number' && Number.isSafeInteger(length) && length >= 0 ? length : undefined
}
