import { createTelemeter } from '@telemeter/core'
import type { ScenarioOptions } from '@telemeter/testkit'
import { createApp, listen } from './app.js'

/**
 * A Koa bookshop with `telemeterKoa` first: every request a network trace
 * named after its route template, users mapped to devices with sessions, a
 * failing handler as a crash, a client error and a 404 as traces only, a
 * streamed export measured in bytes, health checks left out.
 */
export async function runScenario({ url, appKey, log }: ScenarioOptions): Promise<void> {
  const telemeter = createTelemeter({
    url,
    appKey,
    storage: 'memory',
    deviceId: 'koa-bookshop',
    appVersion: '1.0.0',
  })
  telemeter.on('dropped', (info) => log(`dropped ${info.requests} request(s): ${info.reason}`))
  const shop = await listen(createApp(telemeter))
  log(`bookshop on ${shop.url} (Koa 3, @koa/router, telemeterKoa first)`)
  const get = (path: string, headers?: Record<string, string>) => fetch(`${shop.url}${path}`, { headers })
  try {
    const book = await get('/api/v1/books/1', { 'x-user-id': 'user-ada' })
    log(
      `GET /api/v1/books/1 as user-ada -> ${book.status}: trace "GET /api/v1/books/:id", session for user-ada`,
    )

    const missing = await get('/api/v1/books/999', { 'x-user-id': 'user-ada' })
    log(`GET /api/v1/books/999 as user-ada -> ${missing.status} (ctx.throw(404): a trace, not a crash)`)

    const order = await fetch(`${shop.url}/api/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'user-grace' },
      body: JSON.stringify({ bookId: '2', quantity: 2 }),
    })
    log(`POST /api/v1/orders as user-grace -> ${order.status} (order_placed event via currentScope())`)

    const stock = await get('/api/v1/shops/berlin/stock/sku-42', { 'x-device-id': 'kiosk-7' })
    log(`GET /api/v1/shops/berlin/stock/sku-42 from kiosk-7 -> ${stock.status} (nested router template)`)

    const report = await get('/api/v1/reports/2025')
    log(`GET /api/v1/reports/2025 -> ${report.status} (thrown in an async handler: one crash)`)

    const csv = await get('/api/v1/exports/catalog.csv', { 'x-user-id': 'user-ada' })
    const bytes = (await csv.arrayBuffer()).byteLength
    log(`GET /api/v1/exports/catalog.csv -> ${csv.status}, ${bytes} bytes streamed (counted as written)`)

    const unknown = await get('/wp-login.php')
    log(`GET /wp-login.php -> ${unknown.status} (trace "GET unknown route", no raw URL)`)

    const health = await get('/health')
    log(`GET /health -> ${health.status} (health checks are not recorded)`)
    await Promise.all(
      [book, missing, order, stock, report, unknown, health].map((reply) => reply.arrayBuffer()),
    )
  } finally {
    await shop.close()
    await telemeter.shutdown()
    const stats = telemeter.stats()
    log(`Telemeter shut down: ${stats.sent} request(s) delivered, ${stats.dropped} dropped`)
  }
}
