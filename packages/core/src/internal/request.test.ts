import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { bulkRequest, encodeForm, singleRequest, withChecksum } from './request.js'

describe('wire encoding', () => {
  it('encodes nested values as JSON strings', () => {
    expect(encodeForm({ a: 'x y', events: [{ key: 'k' }], n: 1 })).toBe(
      `a=x%20y&events=${encodeURIComponent('[{"key":"k"}]')}&n=1`,
    )
  })

  it('signs with an upper-case SHA-256 of data + salt as the last parameter', () => {
    const signed = withChecksum('a=1&b=2', 'salty')
    const expected = createHash('sha256').update('a=1&b=2salty').digest('hex').toUpperCase()
    expect(signed).toBe(`a=1&b=2&checksum256=${expected}`)
  })

  it('uses GET below 2000 characters and POST above, or always with forcePost', () => {
    const options = { appKey: 'K', salt: undefined, forcePost: false }
    expect(singleRequest('/i', { a: 1 }, options).method).toBe('GET')
    const big = singleRequest('/i', { a: 'x'.repeat(3000) }, options)
    expect(big).toMatchObject({
      method: 'POST',
      path: '/i',
      contentType: 'application/x-www-form-urlencoded',
    })
    expect(singleRequest('/i', { a: 1 }, { ...options, forcePost: true }).method).toBe('POST')
  })

  it('splices stored JSON bodies into a bulk body without re-encoding', () => {
    const wire = bulkRequest(['{"device_id":"a"}', '{"device_id":"b"}'], 'K')
    expect(JSON.parse(wire.body!)).toEqual({
      app_key: 'K',
      requests: [{ device_id: 'a' }, { device_id: 'b' }],
    })
    expect(wire.contentType).toBe('application/json')
  })
})
