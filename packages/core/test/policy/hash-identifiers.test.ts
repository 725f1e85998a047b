import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createTelemeter } from '../../src/index.js'
import { testServer } from '../helpers.js'
import { freshStoragePath, quietConfig } from './support.js'

const sha256 = (salt: string, value: string) => createHash('sha256').update(salt).update(value).digest('hex')

async function storedSalt(storagePath: string): Promise<string> {
  const values = JSON.parse(await readFile(join(storagePath, 'state.json'), 'utf8')) as Record<string, string>
  return values.identifierSalt ?? ''
}

describe('hashIdentifiers', () => {
  it('sends device ids, user ids and emails as salted SHA-256 hex; the salt stays in storage', async () => {
    const server = await testServer({ sessionCooldownS: 0 })
    const storagePath = await freshStoragePath()
    const config = { ...quietConfig(server, storagePath), hashIdentifiers: true }
    const telemeter = createTelemeter(config)
    await telemeter.flush() // storage open: the salt exists
    telemeter.event('instance-event')
    const user = telemeter.forDevice('user-42')
    user.beginSession()
    user.setUserDetails({ name: 'Ada', username: 'ada', email: ' Ada@Example.com ', custom: { plan: 'pro' } })
    user.recordRating({ rating: 5, email: 'ada@example.com' })
    user.event('login')
    user.changeDeviceId('user-43', { merge: true })
    user.endSession()
    await telemeter.flush()
    await telemeter.shutdown()

    const salt = await storedSalt(storagePath)
    expect(salt).toMatch(/^[0-9a-f]{64}$/)
    const ownId = telemeter.deviceId
    expect(ownId).toMatch(/^[0-9a-f-]{36}$/)
    const hashedUser = sha256(salt, 'user-42')
    const hashedMerged = sha256(salt, 'user-43')
    const hashedEmail = sha256(salt, 'ada@example.com')

    expect(server.events({ key: 'instance-event', deviceId: sha256(salt, ownId) })).toHaveLength(1)
    expect(server.events({ key: 'login', deviceId: hashedUser })).toHaveLength(1)
    expect(
      server
        .users()
        .map((stored) => stored.did)
        .sort(),
    ).toEqual([sha256(salt, ownId), hashedMerged].sort())
    const profile = server.user(hashedMerged)
    expect(profile).toMatchObject({
      name: 'Ada',
      username: sha256(salt, 'ada'),
      email: hashedEmail,
      custom: { plan: 'pro' },
      merged_ids: [hashedUser],
    })
    expect(server.events({ key: '[CLY]_star_rating' })[0]?.segmentation).toMatchObject({ rating: 5 })
    const ratingItem = server.items.find((item) =>
      JSON.stringify(item.params.events ?? '').includes('[CLY]_star_rating'),
    )
    expect(JSON.stringify(ratingItem?.params)).toContain(hashedEmail)

    // Nothing identifying, and never the salt, anywhere on the wire.
    const wire = server.requests.map((request) => `${request.rawQuery}\n${request.body}`).join('\n')
    for (const secret of [salt, 'user-42', 'user-43', ownId, 'ada@example.com', 'Ada@Example.com'])
      expect(wire).not.toContain(encodeURIComponent(secret).slice(0, 40))
    expect(wire).not.toContain(salt)
    expect(telemeter.status().identifiersHashed).toBe(true)

    // The salt is kept: the next run maps the same ids to the same hashes.
    const again = createTelemeter(config)
    again.forDevice('user-42').event('second-run')
    await again.flush()
    await again.shutdown()
    expect(await storedSalt(storagePath)).toBe(salt)
    expect(server.events({ key: 'second-run', deviceId: hashedUser })).toHaveLength(1)
    expect(server.violations).toEqual([])
  })

  it('two installations hash the same id differently (each has its own salt)', async () => {
    const server = await testServer()
    const ids: string[] = []
    for (let run = 0; run < 2; run++) {
      const telemeter = createTelemeter({
        ...quietConfig(server, await freshStoragePath()),
        hashIdentifiers: true,
      })
      telemeter.forDevice('user-42').event(`install-${run}`)
      await telemeter.flush()
      await telemeter.shutdown()
      ids.push(server.events({ key: `install-${run}` })[0]?.device_id ?? '')
    }
    expect(ids[0]).toMatch(/^[0-9a-f]{64}$/)
    expect(ids[1]).toMatch(/^[0-9a-f]{64}$/)
    expect(ids[0]).not.toBe(ids[1])
  })
})
