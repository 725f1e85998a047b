import { FORBIDDEN_PROPERTY_KEYS, USER_DETAIL_KEYS } from './constants.js'
import type { ItemContext } from './context.js'
import { deepEqual, describe, isNumeric, isPlainObject, type JsonObject, safeAssign } from './values.js'

const OPERATORS = new Set(['$inc', '$mul', '$max', '$min', '$setOnce', '$push', '$addToSet', '$pull'])
const STRING_KEYS = ['name', 'username', 'email', 'organization', 'phone', 'picture', 'gender'] as const

/**
 * `user_details` (PROTOCOL §2.12): standard keys and `custom` properties. A
 * custom value is `$set`, `""` unsets it, and a one-key operator object
 * (`{"$inc": 2}`, `{"$push": ["a"]}`, …) updates it.
 */
export function processUserDetails(ctx: ItemContext, details: JsonObject | undefined): void {
  if (!details) return
  const doc = ctx.user.doc as unknown as JsonObject
  for (const [key, value] of Object.entries(details)) {
    if (!USER_DETAIL_KEYS.has(key)) {
      ctx.violate('invalid-user-details', `user_details.${key} is not a user profile field; ignored`)
      continue
    }
    if (key === 'custom') {
      processCustom(ctx, value)
      continue
    }
    if (value === '' || value === null) {
      delete doc[key]
      continue
    }
    if (key === 'byear') {
      if (isNumeric(value)) doc.byear = Number(value)
      else ctx.violate('invalid-user-details', `user_details.byear must be a number, got ${describe(value)}`)
      continue
    }
    if (typeof value === 'object') {
      ctx.violate('invalid-user-details', `user_details.${key} must be a string, got ${describe(value)}`)
      continue
    }
    if ((STRING_KEYS as readonly string[]).includes(key)) doc[key] = String(value)
  }
}

function processCustom(ctx: ItemContext, value: unknown): void {
  if (!isPlainObject(value)) {
    ctx.violate('invalid-user-details', `user_details.custom must be an object, got ${describe(value)}`)
    return
  }
  const custom = ctx.user.doc.custom
  for (const [key, raw] of Object.entries(value)) {
    if (FORBIDDEN_PROPERTY_KEYS.has(key)) {
      ctx.violate('invalid-user-details', `custom property "${key}" is refused`)
      continue
    }
    if (key.startsWith('$') || key.includes('.') || key === '') {
      ctx.violate(
        'invalid-user-details',
        `custom property key ${describe(key)} must not start with $ or contain "."`,
      )
      continue
    }
    if (raw === '') {
      delete custom[key]
      continue
    }
    if (isPlainObject(raw) && Object.keys(raw).some((k) => k.startsWith('$'))) {
      applyOperator(ctx, custom, key, raw)
      continue
    }
    safeAssign(custom, key, raw)
  }
}

function applyOperator(ctx: ItemContext, custom: JsonObject, key: string, operation: JsonObject): void {
  const entries = Object.entries(operation)
  const [op, arg] = entries[0] ?? []
  if (entries.length !== 1 || op === undefined || !OPERATORS.has(op)) {
    ctx.violate(
      'invalid-user-details',
      `custom "${key}": ${describe(operation)} is not a single known operator`,
    )
    return
  }
  const current = custom[key]
  const numeric = (v: unknown) => (isNumeric(v) ? Number(v) : undefined)
  switch (op) {
    case '$inc':
    case '$mul':
    case '$max':
    case '$min': {
      const n = numeric(arg)
      if (n === undefined) {
        ctx.violate('invalid-user-details', `custom "${key}": ${op} needs a number, got ${describe(arg)}`)
        return
      }
      const cur = numeric(current)
      if (op === '$inc') safeAssign(custom, key, (cur ?? 0) + n)
      else if (op === '$mul') safeAssign(custom, key, (cur ?? 0) * n)
      else if (cur === undefined) safeAssign(custom, key, n)
      else safeAssign(custom, key, op === '$max' ? Math.max(cur, n) : Math.min(cur, n))
      return
    }
    case '$setOnce':
      if (current === undefined) safeAssign(custom, key, arg)
      return
    default: {
      const values = Array.isArray(arg) ? arg : [arg]
      const list = Array.isArray(current) ? [...current] : current === undefined ? [] : [current]
      if (op === '$push') list.push(...values)
      else if (op === '$addToSet') {
        for (const item of values) if (!list.some((existing) => deepEqual(existing, item))) list.push(item)
      } else {
        // $pull only touches arrays.
        if (!Array.isArray(current)) return
        safeAssign(custom, key, pullAll(list, values))
        return
      }
      safeAssign(custom, key, list)
    }
  }
}

function pullAll(list: unknown[], values: unknown[]): unknown[] {
  return list.filter((existing) => !values.some((item) => deepEqual(existing, item)))
}
