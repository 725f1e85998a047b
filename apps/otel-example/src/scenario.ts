import { createTelemeter } from '@telemeter/core'
import type { ScenarioOptions } from '@telemeter/testkit'
import { startPricing, startShop } from './app.js'
import { startTelemetry } from './telemetry.js'

/**
 * A node:http shop instrumented with the OpenTelemetry NodeSDK, exporting
 * through Telemeter: server and fetch client spans become network traces, a
 * custom span a device trace, a recorded exception a crash report.
 */
export async function runScenario({ url, appKey, log }: ScenarioOptions): Promise<void> {
  const telemeter = createTelemeter({
    url,
    appKey,
    storage: 'memory',
    deviceId: 'otel-example',
    appVersion: '1.0.0',
    flushIntervalMs: 100,
  })
  telemeter.on('dropped', (info) => log(`dropped ${info.requests} request(s): ${info.reason}`))
  const telemetry = startTelemetry(telemeter)
  const pricing = await startPricing()
  const shop = await startShop(pricing.url)
  log(`shop on ${shop.url}, pricing on ${pricing.url}, NodeSDK exporting through TelemeterSpanExporter`)
  try {
    const product = await fetch(`${shop.url}/products/42`, { headers: { 'x-user-id': 'user-ada' } })
    log(`GET /products/42 as user-ada -> ${product.status} (the shop fetched GET /prices/42)`)

    const order = await fetch(`${shop.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'user-grace' },
      body: JSON.stringify({ productId: 42, quantity: 2 }),
    })
    const { id } = (await order.json()) as { id: number }
    log(`POST /orders as user-grace -> ${order.status}, order ${id} (custom span db.insert order)`)

    const receipt = await fetch(`${shop.url}/orders/999/receipt`, { headers: { 'x-device-id': 'kiosk-7' } })
    log(`GET /orders/999/receipt from device kiosk-7 -> ${receipt.status} (exception recorded on the span)`)

    const health = await fetch(`${shop.url}/health`)
    log(`GET /health -> ${health.status} (health checks are not exported)`)
  } finally {
    await shop.close()
    await pricing.close()
    await telemetry.shutdown()
    log('OpenTelemetry shut down: buffered spans exported, the Telemeter flushed')
    await telemeter.shutdown()
    const stats = telemeter.stats()
    log(`Telemeter shut down: ${stats.sent} request(s) delivered, ${stats.dropped} dropped`)
  }
}
