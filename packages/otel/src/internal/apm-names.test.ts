import { describe, expect, it } from 'vitest'
import { ApmNames } from './apm-names.js'

describe('ApmNames', () => {
  it('keeps numeric attributes as metrics, drops identifiers silently and unsafe keys with a warning', () => {
    const unsafe: string[] = []
    const names = new ApmNames((kind, raw) => unsafe.push(`${kind}:${raw}`))
    const attributes = {
      'db.rows': 3,
      'queue depth': 12.5,
      'queue.depth': 99,
      'net.peer.port': 5432,
      'code.lineno': 10,
      'messaging.message.id': 77,
      'http.response.status_code': 200,
      response_time: 5,
      '7': 1,
      ratio: Number.NaN,
      label: 'x',
      ok: true,
    }
    expect(names.metrics(attributes)).toEqual({ db_rows: 3, queue_depth: 12.5 })
    expect(unsafe.sort()).toEqual(['metric-key:7', 'metric-key:response_time'])
    // Cached: the same attributes again decide the same way.
    expect(names.metrics(attributes)).toEqual({ db_rows: 3, queue_depth: 12.5 })
  })

  it('names traces with valid keys and reports each unsafe name', () => {
    const unsafe: string[] = []
    const names = new ApmNames((kind, raw) => unsafe.push(`${kind}:${raw}`))
    for (const [raw, key] of [
      ['cache.get', 'cache_get'],
      ['cache.get', 'cache_get'],
      ['db.query users', 'db_query_users'],
      ['GET /users/:id', 'GET_users_id'],
      ['render the monthly invoice PDF for every customer', 'render_the_monthly_invoice_PDF_f'],
      ['ünïcode naïve', 'n_code_na_ve'],
    ]) {
      expect(names.traceName(raw!)).toBe(key)
      expect(key).toMatch(/^[a-zA-Z][a-zA-Z0-9_]{0,31}$/)
    }
    for (const raw of ['404', '💥', '$$$', '']) expect(names.traceName(raw)).toBeUndefined()
    expect(unsafe).toEqual(['trace-name:404', 'trace-name:💥', 'trace-name:$$$', 'trace-name:'])
  })
})
