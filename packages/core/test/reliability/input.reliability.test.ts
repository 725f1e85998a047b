import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createTelemeter, type DeviceScope, type Telemeter } from '../../src/index.js'
import { APP_KEY, captureLogger, tempDir, testServer } from '../helpers.js'
import { Ledger, scaled, seedOf } from './support.js'

/**
 * Bad input from the host: every public method of Telemeter and DeviceScope
 * called with arbitrary values (wrong types, NaN, Infinity, huge strings,
 * deep and circular objects, prototype keys, symbols, invalid UTF-16,
 * getters and Proxies that throw). No call may throw or reject, nothing
 * invalid may reach the wire, and the queue on disk must stay readable.
 */

function circular(): object {
  const value: Record<string, unknown> = { name: 'loop' }
  value.self = value
  value.list = [value]
  return value
}

function deep(depth: number): object {
  let value: Record<string, unknown> = { leaf: 1 }
  for (let i = 0; i < depth; i++) value = { nested: value }
  return value
}

const boom = (): never => {
  throw new Error('hostile getter')
}
// Symbol keys are left alone: fast-check itself looks for its clone method on generated values.
const unlessSymbol = (_: object, key: string | symbol) => (typeof key === 'symbol' ? undefined : boom())
const throwingProxy = new Proxy(
  {},
  {
    get: unlessSymbol,
    has: (t, key) => unlessSymbol(t, key) !== undefined,
    ownKeys: boom,
    getOwnPropertyDescriptor: boom,
  },
)
const revoked = Proxy.revocable({}, {})
revoked.revoke()

/** A value fast-check must not inspect (a revoked Proxy throws on any operation): unwrapped at call time. */
class Opaque {
  constructor(readonly value: unknown) {}
}
const unwrap = (value: unknown): unknown => (value instanceof Opaque ? value.value : value)

/** Values no host should pass, and some a careless one will. */
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withObjectString: true,
    withSparseArray: true,
    withTypedArray: true,
    withUnicodeString: true,
  }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom<unknown>(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -0,
    Number.MAX_SAFE_INTEGER + 2,
    Symbol('hostile'),
    10n ** 30n,
    '\uD800',
    'a\uDFFFb\uD83D',
    '',
    '   ',
    '[CLY]_session',
    '__proto__',
    'constructor',
    'x'.repeat(200_000),
    JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}'),
    { 'a.b': 1, $inc: 2, '': 3, '[CLY]_x': 4 },
    circular(),
    deep(5_000),
    Object.defineProperty({}, 'segmentation', { get: boom, enumerable: true }),
    Object.defineProperty({ message: 'm' }, 'stack', { get: boom, enumerable: true }),
    new Opaque(throwingProxy),
    new Opaque(revoked.proxy),
    { segmentation: new Opaque(revoked.proxy) },
    () => 'fn',
    new Date(Number.NaN),
    new Error('an error'),
    Object.assign(new Error(), { message: Symbol('not a string') }),
    [Number.NaN, undefined, null, [[[]]]],
    { rating: Number.POSITIVE_INFINITY, widgetId: {}, comment: 7 },
    { type: 'network', name: 'GET /x', metrics: { response_time: Number.NaN, response_code: 1e9 } },
    { type: 'device', name: 'ok_name', stz: -1, etz: Number.POSITIVE_INFINITY },
    { keys: [1, {}, null], omitKeys: 'x' },
    { merge: 'yes' },
    { events: 'not json', begin_session: 'maybe', metrics: { _os: {} }, app_id: 'x' },
  ),
)

const args = (count: number) => fc.array(hostile, { minLength: 0, maxLength: count })

/** Every public method of a DeviceScope, by name. */
const SCOPE_METHODS = [
  'event',
  'startEvent',
  'endEvent',
  'cancelEvent',
  'beginSession',
  'extendSession',
  'endSession',
  'view',
  'captureError',
  'addBreadcrumb',
  'reportTrace',
  'startTrace',
  'setUserDetails',
  'setLocation',
  'disableLocation',
  'recordRating',
  'giveConsent',
  'removeConsent',
  'hasConsent',
  'fetchRemoteConfig',
  'getRemoteConfig',
  'changeDeviceId',
  'reportConversion',
  'request',
] as const
const USER_DATA_METHODS = [
  'set',
  'setOnce',
  'increment',
  'incrementBy',
  'multiply',
  'max',
  'min',
  'push',
  'pushUnique',
  'pull',
  'save',
] as const
/** What Telemeter adds (shutdown and flush are called at the end). */
const TELEMETER_METHODS = [
  'forDevice',
  'setTracking',
  'setEnabled',
  'groupFeatures',
  'instance',
  'reportAppStart',
  'stats',
  'status',
  'on',
  'off',
] as const

type Call =
  | { on: 'scope' | 'device'; method: (typeof SCOPE_METHODS)[number]; args: unknown[]; device: unknown }
  | { on: 'userData'; method: (typeof USER_DATA_METHODS)[number]; args: unknown[]; device: unknown }
  | { on: 'telemeter'; method: (typeof TELEMETER_METHODS)[number]; args: unknown[]; device: unknown }

const call: fc.Arbitrary<Call> = fc.oneof(
  fc.record({
    on: fc.constantFrom('scope' as const, 'device' as const),
    method: fc.constantFrom(...SCOPE_METHODS),
    args: args(3),
    device: hostile,
  }),
  fc.record({
    on: fc.constant('userData' as const),
    method: fc.constantFrom(...USER_DATA_METHODS),
    args: args(3),
    device: hostile,
  }),
  fc.record({
    on: fc.constant('telemeter' as const),
    method: fc.constantFrom(...TELEMETER_METHODS),
    args: args(2),
    device: hostile,
  }),
)

/** Run one call; it must neither throw nor return a promise that rejects. */
async function apply(telemeter: Telemeter, step: Call): Promise<void> {
  const { on, method } = step
  const args = step.args.map(unwrap)
  const device = unwrap(step.device)
  let result: unknown
  if (on === 'telemeter') result = (telemeter[method] as (...a: unknown[]) => unknown)(...args)
  else {
    // `forDevice` with a hostile id is itself under test: it must return a usable scope.
    const scope: DeviceScope = on === 'scope' ? telemeter : telemeter.forDevice(device as string)
    if (on === 'userData') result = (scope.userData[method] as (...a: unknown[]) => unknown)(...args)
    else {
      result = (scope[method] as (...a: unknown[]) => unknown)(...args)
      if (method === 'startTrace') (result as { end(metrics?: unknown): void }).end(args[0])
    }
  }
  if (result instanceof Promise) await result
}

describe('bad input from the host (property-based, fast-check)', () => {
  it('no public method throws or rejects, nothing invalid reaches the wire, the queue stays readable', async () => {
    const server = await testServer({ remoteConfig: { flag: true } })
    const dir = await tempDir()
    const logger = captureLogger()
    const config = {
      url: server.url,
      appKey: APP_KEY,
      storagePath: dir,
      sessions: 'manual' as const,
      flushIntervalMs: 20,
      serverConfig: false,
      retry: { baseDelayMs: 20, maxDelayMs: 200 },
      debug: logger,
    }
    const telemeter = createTelemeter(config)
    const ledger = new Ledger('bad input (fast-check)')
    ledger.watch(telemeter)
    const seed = seedOf(ledger.scenario)
    let calls = 0
    await fc.assert(
      fc.asyncProperty(fc.array(call, { maxLength: 12 }), async (sequence) => {
        for (const step of sequence) {
          calls++
          await expect(apply(telemeter, step)).resolves.toBeUndefined()
        }
        // Identified events recorded between the hostile calls are accounted for like any other.
        ledger.event(telemeter.forDevice('witness'))
      }),
      { seed, numRuns: scaled(500, 5_000), endOnFailure: true },
    )
    // The operator switch and policy may have been turned off by hostile calls: back on to drain.
    telemeter.setEnabled(true)
    telemeter.setTracking({
      events: true,
      sessions: true,
      views: true,
      crashes: true,
      apm: true,
      users: true,
    })
    await telemeter.flush()
    await telemeter.shutdown({ timeoutMs: 2_000 })

    // Restart on the same storage: everything it left must read back and deliver.
    const restarted = createTelemeter({ ...config, debug: captureLogger() })
    ledger.watch(restarted)
    const corrupt: unknown[] = []
    restarted.on('dropped', (info) => info.detail === 'corrupted on disk' && corrupt.push(info))
    await restarted.flush()
    const left = restarted.stats()
    await restarted.shutdown({ timeoutMs: 2_000 })
    ledger.summary(server, { seed, calls, requests: server.items.length, queuedAfterRestart: left.queued })
    expect(corrupt).toEqual([])
    expect(left.queued).toBe(0)
    expect(server.violations).toEqual([])
    expect(ledger.problems(server)).toEqual([])
  })
})
