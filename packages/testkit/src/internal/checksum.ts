import { createHash } from 'node:crypto'
import type { JsonObject } from './values.js'

export type ChecksumResult =
  | { ok: true }
  | {
      ok: false
      message: 'Request does not have checksum' | 'Request does not match checksum'
      algorithm?: string
    }

/**
 * `checksumSaltVerification` (PROTOCOL §2.1). `payloads` are the raw query
 * string and, for POST, the raw body (or the re-joined multipart fields).
 * The first literal `&checksum=<v>` then `checksum=<v>` is removed from each,
 * the rest plus the salt is hashed, and hashes are compared upper-cased.
 * `checksum` wins; `checksum256` is only looked at when `checksum` is absent.
 */
export function verifyChecksum(
  params: JsonObject,
  payloads: readonly string[],
  salt: string,
): ChecksumResult {
  const sha1 = params.checksum
  const sha256 = params.checksum256
  let name: 'checksum' | 'checksum256'
  let value: unknown
  if (sha1 !== undefined) {
    name = 'checksum'
    value = sha1
  } else if (sha256 !== undefined) {
    name = 'checksum256'
    value = sha256
  } else {
    return { ok: false, message: 'Request does not have checksum' }
  }
  const algorithm = name === 'checksum' ? 'sha1' : 'sha256'
  const expected = String(value).toUpperCase()
  const matches = payloads.some((payload) => {
    const stripped = payload.replace(`&${name}=${String(value)}`, '').replace(`${name}=${String(value)}`, '')
    return (
      createHash(algorithm)
        .update(stripped + salt)
        .digest('hex')
        .toUpperCase() === expected
    )
  })
  return matches ? { ok: true } : { ok: false, message: 'Request does not match checksum', algorithm }
}
