import { describe, expect, it } from 'vitest'
import { isValidApmKey, toApmKey } from './apm.js'

describe('toApmKey', () => {
  it('turns free-form names into valid trace keys', () => {
    expect(toApmKey('user.created')).toBe('user_created')
    expect(toApmKey('{"cmd":"sum"}')).toBe('cmd_sum')
    expect(toApmKey('UsersController.findOne')).toBe('UsersController_findOne')
    expect(toApmKey('  ws: message / new  ')).toBe('ws_message_new')
    expect(toApmKey('2fa_check')).toBe('fa_check')
    expect(toApmKey('rpc_{"cmd":"sum"}')).toBe('rpc_cmd_sum')
  })

  it('keeps a valid key as it is', () => {
    expect(toApmKey('my__trace')).toBe('my__trace')
  })

  it('cuts to 32 characters and never ends on an underscore', () => {
    const key = toApmKey('a'.repeat(31) + '.b')
    expect(key).toBe('a'.repeat(31))
    expect(isValidApmKey(toApmKey('x'.repeat(100)) ?? '')).toBe(true)
  })

  it('gives undefined when no letter is left', () => {
    expect(toApmKey('42')).toBeUndefined()
    expect(toApmKey('...')).toBeUndefined()
    expect(toApmKey('')).toBeUndefined()
  })
})
