import { describe, expect, it } from 'vitest'
import { createTrace, type TraceParam, traceBody, traceOf } from './trace-body.js'

const trace = {
  type: 'network',
  name: 'GET /users/:id "x"\n',
  stz: 1795330318859,
  etz: 1795330318862,
  apm_metrics: { response_time: 3, response_code: 200, request_payload_size: 0, response_payload_size: 120 },
  timestamp: 1795330318859,
  hour: 6,
  dow: 0,
}
const common = {
  app_key: 'K',
  device_id: 'd"1',
  t: 0,
  timestamp: 1795330318860,
  hour: 6,
  dow: 0,
  tz: -60,
  sdk_name: 'telemeter-node',
  sdk_version: '1.0.0',
}
const head = JSON.stringify(common).slice(0, -1)

describe('traceBody', () => {
  it('writes exactly what JSON.stringify writes', () => {
    const shapes: TraceParam[] = [
      trace,
      { ...trace, type: 'device', name: 'import_csv', apm_metrics: { duration: 12, rows: 1.5 } },
      { ...trace, apm_metrics: {} },
    ]
    for (const apm of shapes) {
      const params = {
        apm: createTrace(apm.type, apm.name, apm.stz, apm.etz, apm.apm_metrics, apm.hour, apm.dow),
      }
      expect(traceOf(params)).toEqual(apm)
      expect(JSON.stringify(params.apm)).toBe(JSON.stringify(apm))
      expect(traceBody(head, traceOf(params)!, 7)).toBe(JSON.stringify({ ...common, apm, rr: 7 }))
    }
  })

  it('takes only traces apm.ts marked', () => {
    expect(traceOf({ apm: { ...trace } })).toBeUndefined()
    expect(traceOf({ events: [] })).toBeUndefined()
    expect(traceOf({ apm: null })).toBeUndefined()
  })
})
