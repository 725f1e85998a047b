import { describe, expect, it } from 'vitest'
import type { UserData } from '../../src/index.js'
import {
  DEVICE_ID,
  itemsWith,
  runOfficial,
  runOurs,
  sideBySide,
  storedOf,
  violationCodes,
} from './harness.js'

/**
 * One test per `Countly.userData.*` row of docs/migrating-from-countly-sdk-nodejs.md:
 * the same custom-property operations through both SDKs, then the custom
 * properties each server stored.
 */

type Call = [op: string, key?: string, value?: unknown]

const OURS: Record<string, keyof UserData> = {
  set: 'set',
  set_once: 'setOnce',
  unset: 'unset',
  increment: 'increment',
  increment_by: 'incrementBy',
  multiply: 'multiply',
  max: 'max',
  min: 'min',
  push: 'push',
  push_unique: 'pushUnique',
  pull: 'pull',
  save: 'save',
}

/** The same calls on a Telemeter scope's `userData`. */
function replay(userData: UserData, calls: Call[]): void {
  for (const [op, key, value] of calls) {
    const method = OURS[op]
    if (!method) throw new Error(`no mapping for ${op}`)
    ;(userData[method] as (key?: string, value?: unknown) => void)(key, value)
  }
}

async function compare(calls: Call[]) {
  const [official, ours] = await sideBySide(
    () => runOfficial('userData:sequence', { arg: { calls } }),
    () => runOurs((t) => replay(t.userData, calls)),
  )
  expect([...violationCodes(official.server), ...violationCodes(ours.server)]).toEqual([])
  return {
    official,
    ours,
    theirs: storedOf(official.server).user?.custom,
    mine: storedOf(ours.server).user?.custom,
  }
}

const rows: [row: string, calls: Call[], expected: Record<string, unknown>][] = [
  [
    'userData.set(key, value) → userData.set(key, value)',
    [['set', 'plan', 'pro'], ['save']],
    { plan: 'pro' },
  ],
  [
    'userData.set_once(key, value) → userData.setOnce(key, value)',
    [['set_once', 'first', 'a'], ['save'], ['set_once', 'first', 'b'], ['save']],
    { first: 'a' },
  ],
  [
    'userData.unset(key) → userData.unset(key)',
    [['set', 'plan', 'pro'], ['set', 'seats', 3], ['save'], ['unset', 'plan'], ['save']],
    { seats: 3 },
  ],
  [
    'userData.increment(key) → userData.increment(key)',
    [['increment', 'logins'], ['save'], ['increment', 'logins'], ['save']],
    { logins: 2 },
  ],
  [
    'userData.increment_by(key, value) → userData.incrementBy(key, amount)',
    [['increment_by', 'credits', 5], ['save']],
    { credits: 5 },
  ],
  [
    'userData.multiply(key, value) → userData.multiply(key, factor)',
    [['set', 'score', 3], ['save'], ['multiply', 'score', 4], ['save']],
    { score: 12 },
  ],
  [
    'userData.max(key, value) → userData.max(key, value)',
    [['set', 'best', 3], ['save'], ['max', 'best', 7], ['save'], ['max', 'best', 5], ['save']],
    { best: 7 },
  ],
  [
    'userData.min(key, value) → userData.min(key, value)',
    [['set', 'fastest', 9], ['save'], ['min', 'fastest', 4], ['save'], ['min', 'fastest', 6], ['save']],
    { fastest: 4 },
  ],
  [
    'userData.push(key, value) → userData.push(key, value)',
    [['push', 'tags', 'a'], ['push', 'tags', 'a'], ['save']],
    { tags: ['a', 'a'] },
  ],
  [
    'userData.push_unique(key, value) → userData.pushUnique(key, value)',
    [
      ['push_unique', 'tags', 'a'],
      ['save'],
      ['push_unique', 'tags', 'a'],
      ['push_unique', 'tags', 'b'],
      ['save'],
    ],
    { tags: ['a', 'b'] },
  ],
  [
    'userData.pull(key, value) → userData.pull(key, value)',
    [['push', 'tags', 'a'], ['push', 'tags', 'b'], ['save'], ['pull', 'tags', 'a'], ['save']],
    { tags: ['b'] },
  ],
]

describe('Countly.userData', () => {
  it.each(rows)('%s', async (_row, calls, expected) => {
    const { theirs, mine } = await compare(calls)
    expect(mine).toEqual(theirs)
    expect(mine).toEqual(expected)
  })

  it('userData.save() → userData.save() (all pending operations in one request)', async () => {
    const calls: Call[] = [
      ['set', 'plan', 'pro'],
      ['increment_by', 'credits', 5],
      ['push_unique', 'tags', 'beta'],
      ['save'],
    ]
    const { official, ours, theirs, mine } = await compare(calls)
    expect(mine).toEqual(theirs)
    expect(mine).toEqual({ plan: 'pro', credits: 5, tags: ['beta'] })
    expect(itemsWith(official.server, 'user_details', DEVICE_ID)).toHaveLength(1)
    expect(itemsWith(ours.server, 'user_details', DEVICE_ID)).toHaveLength(1)
  })

  it('repeated operations on one key before save() add up in Telemeter (the official SDK keeps the last)', async () => {
    const calls: Call[] = [
      ['increment', 'logins'],
      ['increment', 'logins'],
      ['increment_by', 'credits', 2],
      ['increment_by', 'credits', 3],
      ['save'],
    ]
    const { theirs, mine } = await compare(calls)
    expect(theirs).toEqual({ logins: 1, credits: 3 })
    expect(mine).toEqual({ logins: 2, credits: 5 })
  })
})
