import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import Router from '@koa/router'
import { currentScope, type Telemeter } from '@telemeter/core'
import { telemeterKoa } from '@telemeter/koa'
import Koa from 'koa'

const BOOKS: Record<string, { title: string; price: number }> = {
  '1': { title: 'The Pragmatic Programmer', price: 39.9 },
  '2': { title: 'Designing Data-Intensive Applications', price: 44.5 },
}

/** Business code far from the request: it finds the request's device through currentScope(). */
function recordOrder(bookId: string, quantity: number): number {
  const total = (BOOKS[bookId]?.price ?? 0) * quantity
  currentScope()?.event('order_placed', { sum: total, segmentation: { bookId, quantity } })
  return total
}

async function readJson(req: Koa.Request['req']): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>
}

/**
 * A small bookshop API: a prefixed router, a router nested under a
 * parameterised path, an async handler that fails, a 404, a streamed CSV
 * export, and users identified by an `x-user-id` header.
 */
export function createApp(telemeter: Telemeter): Koa {
  const app = new Koa()
  app.silent = true
  // First, so it times everything and sees every error; users are resolved when needed.
  app.use(telemeterKoa(telemeter))
  // Stand-in authentication, after the middleware as in most apps.
  app.use(async (ctx, next) => {
    const userId = ctx.get('x-user-id')
    if (userId) ctx.state.user = { id: userId }
    await next()
  })

  const api = new Router({ prefix: '/api/v1' })
  api.get('/books/:id', (ctx) => {
    const book = BOOKS[ctx.params.id ?? '']
    if (!book) ctx.throw(404, 'no such book')
    ctx.body = { id: ctx.params.id, ...book }
  })
  api.post('/orders', async (ctx) => {
    const order = await readJson(ctx.req)
    const total = recordOrder(String(order.bookId), Number(order.quantity ?? 1))
    ctx.status = 201
    ctx.body = { id: 1001, total }
  })
  api.get('/reports/:year', async (ctx) => {
    await new Promise((resolve) => setTimeout(resolve, 5))
    throw new Error(`report service unavailable for ${ctx.params.year}`)
  })
  api.get('/exports/catalog.csv', (ctx) => {
    ctx.type = 'text/csv'
    ctx.body = Readable.from(
      (function* rows() {
        yield 'id,title,price\n'
        for (const [id, book] of Object.entries(BOOKS)) yield `${id},"${book.title}",${book.price}\n`
      })(),
    )
  })

  const inventory = new Router()
  inventory.get('/stock/:sku', (ctx) => {
    ctx.body = { shop: ctx.params.shopId, sku: ctx.params.sku, inStock: 3 }
  })
  api.use('/shops/:shopId', inventory.routes())

  const probes = new Router()
  probes.get('/health', (ctx) => {
    ctx.body = { ok: true }
  })

  app.use(probes.routes())
  app.use(api.routes())
  app.use(api.allowedMethods())
  return app
}

/** Listen on an ephemeral loopback port. */
export async function listen(app: Koa): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = app.listen(0, '127.0.0.1')
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
