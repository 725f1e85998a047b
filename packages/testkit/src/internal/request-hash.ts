import { createHash } from 'node:crypto'

/**
 * `params.request_hash` (PROTOCOL §2.3): sha1 of the query string (plus
 * `"&" + body` for POST and bulk items) with `rr`, `checksum` and
 * `checksum256` removed by the server's own regular expressions, followed by
 * the raw `timestamp` param (or the server time in ms).
 */
export function requestHash(payload: string, timestampParam: unknown, serverMs: number): string {
  const cleaned = payload
    .replace(/[?&]?(rr=[^&\n]+)/gm, '')
    .replace(/[?&]?(checksum=[^&\n]+)/gm, '')
    .replace(/[?&]?(checksum256=[^&\n]+)/gm, '')
  const suffix =
    timestampParam === undefined || timestampParam === null || timestampParam === ''
      ? serverMs
      : timestampParam
  return createHash('sha1').update(cleaned).digest('hex') + String(suffix)
}
