import { describe, expect, it } from 'vitest'
import { backoffDelay, classifyResponse, parseRetryAfter } from './delivery.js'

const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
  status,
  headers,
  body: typeof body === 'string' ? body : JSON.stringify(body),
  truncated: false,
})

describe('classifyResponse', () => {
  it('delivered only on 2xx with a JSON result', () => {
    expect(classifyResponse(answer(200, { result: 'Success' })).kind).toBe('delivered')
    expect(
      classifyResponse(answer(200, { result: 'Success', info: 'Request ignored: Duplicate request' })).kind,
    ).toBe('delivered')
    expect(classifyResponse(answer(200, '<html>captive portal</html>')).kind).toBe('retry')
    expect(classifyResponse({ ...answer(200, ''), truncated: true }).kind).toBe('retry')
  })

  it('treats checksum refusals in a 200 as permanent', () => {
    expect(classifyResponse(answer(200, { result: 'Request does not match checksum' })).kind).toBe('rejected')
    expect(classifyResponse(answer(200, { result: 'Request does not have checksum' })).kind).toBe('rejected')
  })

  it('drops permanent 400s and retries transient ones', () => {
    expect(classifyResponse(answer(400, { result: 'App does not exist' })).kind).toBe('rejected')
    expect(classifyResponse(answer(400, { result: 'Missing parameter "app_key" or "device_id"' })).kind).toBe(
      'rejected',
    )
    for (const message of ['Cannot get app user', 'Cannot update user', 'Could not ingest data']) {
      expect(classifyResponse(answer(400, { result: message })).kind).toBe('retry')
    }
    expect(classifyResponse(answer(400, { result: 'Could not record events:timeout' })).kind).toBe('retry')
  })

  it('retries 5xx and 429 with Retry-After', () => {
    const outcome = classifyResponse(answer(429, { result: 'slow down' }, { 'retry-after': '7' }))
    expect(outcome).toMatchObject({ kind: 'retry', retryAfterMs: 7000, status: 429 })
    expect(classifyResponse(answer(503, 'down')).kind).toBe('retry')
  })
})

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, caps absurd values', () => {
    expect(parseRetryAfter('2')).toBe(2000)
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000)
    expect(parseRetryAfter('99999999')).toBe(3_600_000)
    expect(parseRetryAfter('soon')).toBeUndefined()
    expect(parseRetryAfter(undefined)).toBeUndefined()
  })
})

describe('backoffDelay', () => {
  it('grows exponentially with jitter and stays capped', () => {
    expect(backoffDelay(0, 1000, 60_000, () => 0)).toBe(500)
    expect(backoffDelay(0, 1000, 60_000, () => 1)).toBe(1000)
    expect(backoffDelay(3, 1000, 60_000, () => 1)).toBe(8000)
    expect(backoffDelay(40, 1000, 60_000, () => 1)).toBe(60_000)
  })
})
