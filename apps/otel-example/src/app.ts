import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { SpanStatusCode, trace } from '@opentelemetry/api'

const tracer = trace.getTracer('otel-example')

export interface RunningServer {
  readonly url: string
  close(): Promise<void>
}

function listen(server: http.Server): Promise<RunningServer> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () => new Promise((done) => server.close(() => done())),
      })
    })
  })
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => (body += chunk))
    req.on('end', () => resolve(body))
    req.on('error', reject)
  })
}

/** A pricing service the shop calls with fetch. */
export function startPricing(): Promise<RunningServer> {
  return listen(
    http.createServer((req, res) => {
      const match = /^\/prices\/(\d+)$/.exec(req.url ?? '')
      if (!match) return json(res, 404, { error: 'not found' })
      json(res, 200, { productId: Number(match[1]), price: 19.9, currency: 'EUR' })
    }),
  )
}

/**
 * The shop: a plain node:http service. The user of a request (header
 * `x-user-id`) goes on the span as `enduser.id`, so its traces and crashes
 * are that user's device in Countly.
 */
export function startShop(pricingUrl: string): Promise<RunningServer> {
  const orders = new Map<number, { productId: number; quantity: number }>()
  return listen(
    http.createServer(async (req, res) => {
      const user = req.headers['x-user-id']
      if (typeof user === 'string') trace.getActiveSpan()?.setAttribute('enduser.id', user)
      const url = new URL(req.url ?? '/', 'http://shop')
      try {
        if (url.pathname === '/health') return json(res, 200, { ok: true })
        const product = /^\/products\/(\d+)$/.exec(url.pathname)
        if (product && req.method === 'GET') {
          const price = await fetch(`${pricingUrl}/prices/${product[1]}`)
          return json(res, 200, {
            id: Number(product[1]),
            name: 'Teapot',
            ...((await price.json()) as object),
          })
        }
        if (url.pathname === '/orders' && req.method === 'POST') {
          const order = JSON.parse(await readBody(req)) as { productId: number; quantity: number }
          const id = 1000 + orders.size + 1
          // A unit of work of its own: a custom trace with its numeric attributes as metrics.
          tracer.startActiveSpan('db.insert order', (span) => {
            orders.set(id, order)
            span.setAttributes({
              'db.system': 'memory',
              'db.rows_affected': 1,
              'order.quantity': order.quantity,
            })
            span.end()
          })
          return json(res, 201, { id })
        }
        const receipt = /^\/orders\/(\d+)\/receipt$/.exec(url.pathname)
        if (receipt) {
          const order = orders.get(Number(receipt[1]))
          // A bug: receipts of unknown orders crash.
          return json(res, 200, { total: order!.quantity * 19.9 })
        }
        json(res, 404, { error: 'not found' })
      } catch (error) {
        const span = trace.getActiveSpan()
        span?.recordException(error as Error)
        span?.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message })
        json(res, 500, { error: 'internal error' })
      }
    }),
  )
}
