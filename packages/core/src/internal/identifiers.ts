import { createHash, randomBytes } from 'node:crypto'
import type { TelemeterCore } from './client.js'

export const IDENTIFIER_SALT_KEY = 'identifierSalt'

/**
 * `hashIdentifiers`: device ids, user ids and emails leave the process as
 * salted SHA-256 hex. The salt is created once per installation, kept in
 * local storage and never sent, so the same id always maps to the same hash
 * here and cannot be looked up elsewhere.
 */
export function enableIdentifierHashing(core: TelemeterCore): void {
  if (!core.config.hashIdentifiers) return
  let salt = core.values[IDENTIFIER_SALT_KEY]
  if (!salt) {
    salt = randomBytes(32).toString('hex')
    core.setValue(IDENTIFIER_SALT_KEY, salt)
  }
  const key = salt
  core.identifiers = {
    hash: (id: string) => createHash('sha256').update(key).update(id).digest('hex'),
  }
}

/** An email as the server will see it: hashed (normalised first) when identifiers are hashed. */
export function outgoingEmail(core: TelemeterCore, email: string): string {
  return core.identifiers ? core.identifiers.hash(email.trim().toLowerCase()) : email
}
