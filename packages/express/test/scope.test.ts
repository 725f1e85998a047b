import { currentScope } from '@telemeter/core'
import type { Request, Response } from 'express'
import { describe, expect, it } from 'vitest'
import { telemeterErrorHandler, telemeterMiddleware } from '../src/index.js'
import { EXPRESS_VERSIONS, listen, request, setup, sleep, traces, WAIT_MS } from './helpers.js'

/** Something deep in the service that does not get `req`. */
async function chargeCard(amount: number, order: number): Promise<string | undefined> {
  await sleep(1 + ((order * 7) % 13))
  currentScope()?.event('card_charged', { sum: amount, segmentation: { order } })
  return currentScope()?.deviceId
}

describe.each(EXPRESS_VERSIONS)('req.telemeter and currentScope() on $name', ({ express }) => {
  it('gives each of many concurrent requests its own device scope, in its whole async chain', async () => {
    const t = await setup()
    const app = express()
    app.use(telemeterMiddleware(t.telemeter))
    app.post('/orders/:order', async (req: Request, res: Response) => {
      const order = Number(req.params.order)
      const sameAtStart = currentScope() === req.telemeter
      const charged = await chargeCard(order * 10, order)
      await new Promise((resolve) => setTimeout(resolve, (order * 3) % 11))
      res.json({
        device: req.telemeter.deviceId,
        charged,
        sameAtStart,
        sameAtEnd: currentScope() === req.telemeter,
      })
    })
    app.use(telemeterErrorHandler(t.telemeter))
    const base = await listen(app)

    const orders = Array.from({ length: 40 }, (_, i) => i + 1)
    const answers = await Promise.all(
      orders.map((order) =>
        request(base, `/orders/${order}`, {
          method: 'POST',
          headers: order % 4 === 0 ? {} : { 'x-device-id': `customer-${order}` },
        }),
      ),
    )
    for (const [index, answer] of answers.entries()) {
      const order = index + 1
      const device = order % 4 === 0 ? 'api-server-1' : `customer-${order}`
      expect(JSON.parse(answer.body)).toEqual({ device, charged: device, sameAtStart: true, sameAtEnd: true })
    }
    expect(currentScope()).toBeUndefined()

    await traces(t, orders.length)
    await t.server.waitFor(
      (server) => server.events({ key: 'card_charged' }).length === orders.length,
      WAIT_MS,
    )
    for (const event of t.server.events({ key: 'card_charged' })) {
      const order = event.segmentation.order as number
      expect(event.device_id).toBe(order % 4 === 0 ? 'api-server-1' : `customer-${order}`)
      expect(event.sum).toBe(order * 10)
    }
    expect(t.server.violations).toEqual([])
  })

  it('leaks nothing outside requests, nor from one request into the next', async () => {
    const t = await setup()
    const app = express()
    app.use(telemeterMiddleware(t.telemeter))
    app.get('/who', (req: Request, res: Response) => {
      res.json({ current: currentScope()?.deviceId, own: req.telemeter.deviceId })
    })
    app.get('/health', (req: Request, res: Response) => {
      res.json({ current: currentScope()?.deviceId ?? null, own: req.telemeter === t.telemeter })
    })
    const base = await listen(app)
    let seenByTimer: unknown = 'not run'
    const timer = new Promise<void>((resolve) =>
      setTimeout(() => {
        seenByTimer = currentScope()
        resolve()
      }, 30),
    )
    expect(JSON.parse((await request(base, '/who', { headers: { 'x-device-id': 'first' } })).body)).toEqual({
      current: 'first',
      own: 'first',
    })
    expect(JSON.parse((await request(base, '/who')).body)).toEqual({
      current: 'api-server-1',
      own: 'api-server-1',
    })
    // Ignored requests are not recorded: req.telemeter is the Telemeter itself, currentScope() is empty.
    expect(
      JSON.parse((await request(base, '/health', { headers: { 'x-device-id': 'probe' } })).body),
    ).toEqual({
      current: null,
      own: true,
    })
    await timer
    expect(seenByTimer).toBeUndefined()
    expect(currentScope()).toBeUndefined()
  })
})
