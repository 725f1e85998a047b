import { startTestServer } from '@telemeter/testkit'
import { describe, expect, it } from 'vitest'
import { runFixture } from './child.js'
import { onCleanup } from './helpers.js'

const APP_KEY = 'ASYNC_KEY'

describe('async handlers on Express 4', () => {
  it('cannot see a rejected promise (it never reaches next): the request hangs until the client gives up', async () => {
    const server = await startTestServer({ appKey: APP_KEY })
    onCleanup(() => server.close())
    const child = runFixture(
      'express4-async-error.mjs',
      { TELEMETER_URL: server.url, TELEMETER_APP_KEY: APP_KEY },
      ['--unhandled-rejections=warn'],
    )
    const { port } = (await child.firstLine) as { port: number }
    const base = `http://127.0.0.1:${port}`

    const lost = await fetch(`${base}/async-throw/1`, { signal: AbortSignal.timeout(300) }).then(
      () => 'answered',
      (error: Error) => error.name,
    )
    expect(lost).toBe('TimeoutError')
    const forwarded = await fetch(`${base}/async-next/2`)
    expect(forwarded.status).toBe(500)

    await server.waitFor((s) => s.traces().length === 2, 15_000)
    child.process.send('stop')
    expect(await child.exited).toBe(0)

    // The client gives up on the first request while the second runs: order is not guaranteed.
    expect(
      server
        .traces()
        .map((trace) => [trace.name, trace.metrics.response_code])
        .sort(),
    ).toEqual([
      ['GET /async-next/:id', 500],
      ['GET /async-throw/:id', 499],
    ])
    // Only the error passed to next() is a crash; the lost one surfaced as Node's unhandled rejection.
    expect(server.crashes().map((crash) => [crash.name, crash.custom])).toEqual([
      ['Error: forwarded async error', { method: 'GET', route: '/async-next/:id', status: 500 }],
    ])
    expect(child.stderr()).toContain('lost async error')
    expect(server.violations).toEqual([])
  })
})
