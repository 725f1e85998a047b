import { startTestServer } from '@telemeter/testkit'
import { describe, expect, it } from 'vitest'
import { runFixture } from './child.js'
import { onCleanup } from './helpers.js'

const APP_KEY = 'FORMAT_KEY'

describe.each([
  { format: 'CommonJS (require, Express 4)', fixture: 'cjs-app.cjs', message: 'cjs boom' },
  { format: 'ES modules (import, Express 5)', fixture: 'esm-app.mjs', message: 'esm boom' },
])('the built package consumed as $format', ({ fixture, message }) => {
  it('wires a real app: traces, crash, req.telemeter and currentScope', async () => {
    const server = await startTestServer({ appKey: APP_KEY })
    onCleanup(() => server.close())
    const child = runFixture(fixture, { TELEMETER_URL: server.url, TELEMETER_APP_KEY: APP_KEY })
    const report = (await child.firstLine) as { answers: [string, number, string][]; outside: boolean }
    expect(await child.exited).toBe(0)
    expect(report.outside).toBe(true)
    const [orders, boom, missing] = report.answers
    expect(orders?.[1]).toBe(200)
    expect(JSON.parse(orders?.[2] ?? '{}')).toEqual({ scope: 'format-device', current: true })
    expect(boom?.[1]).toBe(500)
    expect(missing?.[1]).toBe(404)

    expect(
      server.traces().map((trace) => [trace.device_id, trace.name, trace.metrics.response_code]),
    ).toEqual([
      ['format-device', 'GET /orders/:id', 200],
      ['format-device', 'GET /boom', 500],
      ['format-device', 'GET unknown route', 404],
    ])
    expect(server.crashes().map((crash) => [crash.name, crash.custom])).toEqual([
      [`Error: ${message}`, { method: 'GET', route: '/boom', status: 500 }],
    ])
    expect(server.user('format-device')?.sc).toBe(1)
    expect(server.violations).toEqual([])
  })
})
