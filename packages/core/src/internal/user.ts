import type { UserData, UserDetails } from '../types.js'
import type { TelemeterCore } from './client.js'
import { describe } from './config.js'
import type { DeviceState } from './devices.js'
import { outgoingEmail } from './identifiers.js'

const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype'])
const STRING_FIELDS = ['name', 'username', 'email', 'organization', 'phone'] as const
const MAX_PICTURE_LENGTH = 4096
const MAX_ARRAY_VALUES = 100

type Scalar = string | number | boolean
/** A custom property change: a plain value ($set), "" (unset) or one `$`-operator (PROTOCOL §2.12). */
export type CustomChange = Scalar | { [operator: string]: Scalar | Scalar[] }

function safeKey(core: TelemeterCore, key: unknown, what: string): string | undefined {
  if (typeof key !== 'string' || key === '') {
    core.logger.warnOnce(
      `user:key:${what}`,
      `${what} needs a non-empty string key, got ${describe(key)}; ignored`,
    )
    return undefined
  }
  if (PROTOTYPE_KEYS.has(key) || key.startsWith('$') || key.includes('.')) {
    core.logger.warnOnce(
      `user:reserved:${key}`,
      `user property key "${key}" is not allowed ($-prefixed, dotted or a prototype name); ignored`,
    )
    return undefined
  }
  return core.sanitizer.string(key, core.settings.limits.keyLength, 'user property key')
}

function scalar(core: TelemeterCore, value: unknown, what: string): Scalar | undefined {
  if (typeof value === 'string') return core.sanitizer.string(value, core.settings.limits.valueSize, what)
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') return value
  core.logger.warnOnce(
    `user:value:${what}`,
    `${what} must be a string, finite number or boolean, got ${describe(value)}; ignored`,
  )
  return undefined
}

function customObject(core: TelemeterCore, custom: unknown): Record<string, Scalar> | undefined {
  if (custom === undefined) return undefined
  if (custom === null || typeof custom !== 'object' || Array.isArray(custom)) {
    core.logger.warnOnce('user:custom', `custom must be a plain object, got ${describe(custom)}; ignored`)
    return undefined
  }
  const result: Record<string, Scalar> = {}
  for (const rawKey of Object.keys(custom)) {
    const key = safeKey(core, rawKey, 'custom')
    if (key === undefined) continue
    const value = scalar(core, (custom as Record<string, unknown>)[rawKey], `custom.${key}`)
    if (value !== undefined) result[key] = value
  }
  return Object.keys(result).length > 0 ? result : undefined
}

/** Standard profile fields, validated; unknown fields are warned about and dropped. */
export function userDetailsParams(core: TelemeterCore, input: unknown): Record<string, unknown> | undefined {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    core.logger.warnOnce('user:details', `setUserDetails needs an object, got ${describe(input)}; ignored`)
    return undefined
  }
  const details = input as UserDetails & Record<string, unknown>
  const result: Record<string, unknown> = {}
  for (const field of STRING_FIELDS) {
    if (details[field] === undefined) continue
    const value = details[field]
    if (typeof value === 'string') {
      const clean = core.sanitizer.string(value, core.settings.limits.valueSize, field)
      // A person's identifiers leave the process hashed when hashIdentifiers is on.
      if (field === 'email') result[field] = outgoingEmail(core, clean)
      else if (field === 'username' && core.identifiers) result[field] = core.identifiers.hash(clean)
      else result[field] = clean
    } else core.logger.warnOnce(`user:${field}`, `${field} must be a string, got ${describe(value)}; ignored`)
  }
  if (details.picture !== undefined) {
    if (typeof details.picture === 'string')
      result.picture = core.sanitizer.string(details.picture, MAX_PICTURE_LENGTH, 'picture')
    else core.logger.warnOnce('user:picture', 'picture must be a URL string; ignored')
  }
  if (details.gender !== undefined) {
    const gender = typeof details.gender === 'string' ? details.gender.trim().toUpperCase() : undefined
    if (gender === 'M' || gender === 'F') result.gender = gender
    else
      core.logger.warnOnce(
        'user:gender',
        `gender must be "M" or "F", got ${describe(details.gender)}; ignored`,
      )
  }
  if (details.byear !== undefined) {
    const year = details.byear
    if (
      typeof year === 'number' &&
      Number.isInteger(year) &&
      year >= 1900 &&
      year <= new Date().getFullYear()
    )
      result.byear = year
    else
      core.logger.warnOnce(
        'user:byear',
        `byear must be a birth year from 1900 to this year, got ${describe(year)}; ignored`,
      )
  }
  const custom = customObject(core, details.custom)
  if (custom) result.custom = custom
  for (const key of Object.keys(details)) {
    if (![...STRING_FIELDS, 'picture', 'gender', 'byear', 'custom'].includes(key)) {
      core.logger.warnOnce(
        `user:unknown:${key}`,
        `setUserDetails: unknown field "${key}" (use custom for your own properties); ignored`,
      )
    }
  }
  return Object.keys(result).length > 0 ? result : undefined
}

export function setUserDetailsOf(core: TelemeterCore, device: DeviceState, input: unknown): void {
  const refusal = core.gate.refusal('users', device)
  if (refusal) return core.refuse('users', refusal, 0)
  const params = userDetailsParams(core, input)
  if (params) core.enqueue(device, 'users', { user_details: params }, 0)
}

/** Pending custom property operations of a device, sent by `userData.save()`. */
function change(
  core: TelemeterCore,
  device: DeviceState,
  rawKey: unknown,
  update: (previous: CustomChange | undefined, key: string) => CustomChange | undefined,
  what: string,
): void {
  if (core.gate.refusal('users', device)) return core.refuse('users', core.gate.refusal('users', device)!, 0)
  const key = safeKey(core, rawKey, `userData.${what}`)
  if (key === undefined) return
  const pending = (device.userChanges ??= Object.create(null) as Record<string, CustomChange>)
  const next = update(pending[key], key)
  if (next !== undefined) pending[key] = next
}

function numberArg(core: TelemeterCore, value: unknown, what: string): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value
  core.logger.warnOnce(
    `user:number:${what}`,
    `userData.${what} needs a finite number, got ${describe(value)}; ignored`,
  )
  return undefined
}

function operator(
  name: string,
  previous: CustomChange | undefined,
): Record<string, Scalar | Scalar[]> | undefined {
  return previous !== null && typeof previous === 'object' && name in previous ? previous : undefined
}

/** The `userData` object of a scope: every custom-property operation of the Countly SDKs. */
export function createUserData(core: TelemeterCore, state: () => DeviceState): UserData {
  const guarded = (body: () => void) => {
    try {
      if (!core.closed) body()
    } catch (error) {
      core.reportError(error as Error)
    }
  }
  const numeric = (op: '$inc' | '$mul' | '$max' | '$min', what: string) => (key: string, value: number) =>
    guarded(() => {
      const amount = numberArg(core, value, what)
      if (amount === undefined) return
      change(
        core,
        state(),
        key,
        (previous): CustomChange => {
          const existing = operator(op, previous)?.[op]
          if (typeof existing === 'number') {
            if (op === '$inc') return { $inc: existing + amount }
            if (op === '$mul') return { $mul: existing * amount }
            if (op === '$max') return { $max: Math.max(existing, amount) }
            return { $min: Math.min(existing, amount) }
          }
          return { [op]: amount }
        },
        what,
      )
    })
  const arrayOp = (op: '$push' | '$addToSet' | '$pull', what: string) => (key: string, value: unknown) =>
    guarded(() => {
      const values = (Array.isArray(value) ? value : [value])
        .map((v) => scalar(core, v, `userData.${what}`))
        .filter((v) => v !== undefined)
      if (values.length === 0) return
      change(
        core,
        state(),
        key,
        (previous): CustomChange => {
          const existing = operator(op, previous)?.[op]
          const merged = [...(Array.isArray(existing) ? existing : []), ...values].slice(-MAX_ARRAY_VALUES)
          return { [op]: merged }
        },
        what,
      )
    })
  return {
    set: (key, value) =>
      guarded(() => {
        const clean = scalar(core, value, 'userData.set')
        if (clean !== undefined) change(core, state(), key, () => clean, 'set')
      }),
    setOnce: (key, value) =>
      guarded(() => {
        const clean = scalar(core, value, 'userData.setOnce')
        if (clean !== undefined) change(core, state(), key, () => ({ $setOnce: clean }), 'setOnce')
      }),
    unset: (key) => guarded(() => change(core, state(), key, () => '', 'unset')),
    increment: (key) => numeric('$inc', 'increment')(key, 1),
    incrementBy: numeric('$inc', 'incrementBy'),
    multiply: numeric('$mul', 'multiply'),
    max: numeric('$max', 'max'),
    min: numeric('$min', 'min'),
    push: arrayOp('$push', 'push'),
    pushUnique: arrayOp('$addToSet', 'pushUnique'),
    pull: arrayOp('$pull', 'pull'),
    save: () =>
      guarded(() => {
        const device = state()
        const changes = device.userChanges
        if (!changes || Object.keys(changes).length === 0) return
        device.userChanges = undefined
        const refusal = core.gate.refusal('users', device)
        if (refusal) return core.refuse('users', refusal, 0)
        core.enqueue(device, 'users', { user_details: { custom: { ...changes } } }, 0)
      }),
  }
}
