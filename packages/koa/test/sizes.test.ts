import { Readable } from 'node:stream'
import Router from '@koa/router'
import type Koa from 'koa'
import Koa3 from 'koa3'
import { afterEach, describe, expect, it } from 'vitest'
import { type Harness, KOA_VERSIONS, send, startApp, traceNamed, tracesReceived } from './helpers.js'

const CHUNKS = ['first line\n', 'zweite Zeile: grüße\n', Buffer.from([0, 1, 2, 3, 255])]
const CHUNKED_BYTES = CHUNKS.reduce<number>((sum, chunk) => sum + Buffer.byteLength(chunk), 0)
const LIST = Array.from({ length: 50 }, (_, index) => ({ id: index, name: `ítem ${index}` }))

function routes(app: Koa): void {
  const router = new Router()
  router.get('/export', (ctx) => {
    ctx.type = 'text/plain'
    ctx.body = Readable.from(CHUNKS)
  })
  router.get('/export-sized', (ctx) => {
    ctx.type = 'text/plain'
    ctx.length = CHUNKED_BYTES
    ctx.body = Readable.from(CHUNKS)
  })
  router.get('/slow-export', (ctx) => {
    let index = 0
    ctx.body = new Readable({
      read() {
        setImmediate(() => this.push(index < 3 ? `part ${index++};` : null))
      },
    })
  })
  router.get('/binary', (ctx) => {
    ctx.body = Buffer.alloc(1024, 7)
  })
  router.get('/list', (ctx) => {
    ctx.body = LIST
  })
  router.get('/text', (ctx) => {
    ctx.body = 'héllo wörld ✓'
  })
  router.delete('/items/:id', (ctx) => {
    ctx.status = 204
  })
  router.get('/manual', async (ctx) => {
    ctx.respond = false
    ctx.res.writeHead(200, { 'content-type': 'text/plain' })
    // Written after the middleware chain returned, as a raw Node handler would.
    setImmediate(() => {
      ctx.res.write('raw ')
      ctx.res.end('node body ✓')
    })
  })
  router.post('/upload', async (ctx) => {
    let received = 0
    for await (const chunk of ctx.req) received += (chunk as Buffer).length
    ctx.body = { received }
  })
  app.use(router.routes())
}

describe.each(KOA_VERSIONS)('%s: payload sizes', (_name, Koa) => {
  let h: Harness
  afterEach(() => h.close())

  it('counts streamed (chunked) bodies as written, with or without a Content-Length', async () => {
    h = await startApp(Koa, { routes })
    const chunked = await send(h, '/export')
    expect(chunked.headers.get('transfer-encoding')).toBe('chunked')
    expect(chunked.body.length).toBe(CHUNKED_BYTES)
    const sized = await send(h, '/export-sized')
    expect(sized.headers.get('content-length')).toBe(String(CHUNKED_BYTES))
    const slow = await send(h, '/slow-export')
    expect(slow.body.toString()).toBe('part 0;part 1;part 2;')
    const head = await send(h, '/export', { method: 'HEAD' })
    expect(head.body.length).toBe(0)
    await tracesReceived(h, 4)
    expect(traceNamed(h, 'GET /export').metrics.response_payload_size).toBe(CHUNKED_BYTES)
    expect(traceNamed(h, 'GET /export-sized').metrics.response_payload_size).toBe(CHUNKED_BYTES)
    expect(traceNamed(h, 'GET /slow-export').metrics.response_payload_size).toBe(slow.body.length)
    expect(traceNamed(h, 'HEAD /export').metrics.response_payload_size).toBe(0)
    expect(h.server.violations).toEqual([])
  })

  it('takes buffers, JSON and strings from Content-Length, in bytes; bodiless statuses are 0', async () => {
    h = await startApp(Koa, { routes })
    const binary = await send(h, '/binary')
    const list = await send(h, '/list')
    const text = await send(h, '/text')
    const deleted = await send(h, '/items/4', { method: 'DELETE' })
    expect(deleted.status).toBe(204)
    await tracesReceived(h, 4)
    expect(binary.body.length).toBe(1024)
    expect(traceNamed(h, 'GET /binary').metrics.response_payload_size).toBe(1024)
    expect(list.body.length).toBe(Buffer.byteLength(JSON.stringify(LIST)))
    expect(traceNamed(h, 'GET /list').metrics.response_payload_size).toBe(list.body.length)
    expect(text.body.length).toBe(Buffer.byteLength('héllo wörld ✓'))
    expect(traceNamed(h, 'GET /text').metrics.response_payload_size).toBe(text.body.length)
    expect(traceNamed(h, 'DELETE /items/:id').metrics).toMatchObject({
      response_code: 204,
      response_payload_size: 0,
    })
    expect(h.server.violations).toEqual([])
  })

  it('counts what a handler writes itself with ctx.respond = false', async () => {
    h = await startApp(Koa, { routes })
    const manual = await send(h, '/manual')
    expect(manual.body.toString()).toBe('raw node body ✓')
    await tracesReceived(h, 1)
    expect(traceNamed(h, 'GET /manual').metrics).toMatchObject({
      response_code: 200,
      response_payload_size: manual.body.length,
    })
    expect(h.server.violations).toEqual([])
  })

  it('takes request sizes from Content-Length, and counts a chunked upload as the app reads it', async () => {
    h = await startApp(Koa, { routes })
    const form = new URLSearchParams({ note: 'ünïcode', n: '1' }).toString()
    const sized = await send(h, '/upload', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    })
    expect(JSON.parse(sized.body.toString())).toEqual({ received: Buffer.byteLength(form) })
    const parts = ['first part, ', 'zweiter Teil ✓', Buffer.alloc(3000, 1)]
    const chunked = await send(h, '/upload', {
      method: 'POST',
      body: Readable.toWeb(Readable.from(parts)) as ReadableStream,
      duplex: 'half',
    } as RequestInit)
    const uploaded = parts.reduce<number>((sum, part) => sum + Buffer.byteLength(part), 0)
    expect(JSON.parse(chunked.body.toString())).toEqual({ received: uploaded })
    await tracesReceived(h, 2)
    expect(h.server.traces({ name: 'POST /upload' }).map((t) => t.metrics.request_payload_size)).toEqual([
      Buffer.byteLength(form),
      uploaded,
    ])
    expect(h.server.violations).toEqual([])
  })
})

describe('Koa 3: web bodies', () => {
  let h: Harness
  afterEach(() => h.close())

  it('counts ReadableStream and Response bodies as written, Blob bodies by their size', async () => {
    const encoder = new TextEncoder()
    h = await startApp(Koa3, {
      routes(app) {
        const router = new Router()
        router.get('/web-stream', (ctx) => {
          ctx.body = new ReadableStream({
            start(controller) {
              controller.enqueue(encoder.encode('web '))
              controller.enqueue(encoder.encode('stream ✓'))
              controller.close()
            },
          })
        })
        router.get('/blob', (ctx) => {
          ctx.body = new Blob(['blob body ✓'])
        })
        router.get('/response', (ctx) => {
          ctx.body = new Response('from a fetch Response', { status: 202 })
        })
        app.use(router.routes())
      },
    })
    const web = await send(h, '/web-stream')
    const blob = await send(h, '/blob')
    const response = await send(h, '/response')
    expect(response.status).toBe(202)
    await tracesReceived(h, 3)
    expect(traceNamed(h, 'GET /web-stream').metrics.response_payload_size).toBe(web.body.length)
    expect(web.body.toString()).toBe('web stream ✓')
    expect(traceNamed(h, 'GET /blob').metrics.response_payload_size).toBe(blob.body.length)
    expect(blob.body.length).toBe(Buffer.byteLength('blob body ✓'))
    expect(traceNamed(h, 'GET /response').metrics).toMatchObject({
      response_code: 202,
      response_payload_size: Buffer.byteLength('from a fetch Response'),
    })
    expect(h.server.violations).toEqual([])
  })
})
