import { createReadStream } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import type { Request, Response } from 'express'
import { describe, expect, it } from 'vitest'
import { telemeterErrorHandler, telemeterMiddleware } from '../src/index.js'
import { EXPRESS_VERSIONS, listen, onCleanup, request, setup, traces } from './helpers.js'

const FILE_BYTES = 300_000

async function fixtureFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'telemeter-express-'))
  onCleanup(() => rm(dir, { recursive: true, force: true }))
  const path = join(dir, 'export.csv')
  await writeFile(path, Buffer.alloc(FILE_BYTES, 'x'))
  return path
}

describe.each(EXPRESS_VERSIONS)('payload sizes and timing on $name', ({ express }) => {
  let slowReached: () => void = () => {}
  async function app() {
    const t = await setup()
    const file = await fixtureFile()
    const app = express()
    app.use(telemeterMiddleware(t.telemeter))
    app.get('/json', (_req: Request, res: Response) => {
      res.json({ greeting: 'héllo wörld' })
    })
    app.get('/chunked', (_req: Request, res: Response) => {
      res.setHeader('content-type', 'text/plain')
      res.write('first chunk, ')
      res.write(Buffer.from('second chunk, '))
      res.end('and ünïcode at the end')
    })
    app.get('/stream', (_req: Request, res: Response) => {
      createReadStream(file).pipe(res)
    })
    app.get('/send-file', (_req: Request, res: Response) => {
      res.sendFile(file)
    })
    app.get('/raw-end', (_req: Request, res: Response) => {
      res.end('twelve bytes')
    })
    app.post('/echo-size', express.json(), (req: Request, res: Response) => {
      res.status(201).json({ keys: Object.keys(req.body as object).length })
    })
    app.post('/consume', (req: Request, res: Response) => {
      let bytes = 0
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length
      })
      req.on('end', () => res.json({ bytes }))
    })
    app.get('/slow', (_req: Request, res: Response) => {
      slowReached()
      setTimeout(() => res.end('late'), 5_000).unref()
    })
    app.use(telemeterErrorHandler(t.telemeter))
    return { t, base: await listen(app) }
  }

  it('uses Content-Length when the response has one', async () => {
    const { t, base } = await app()
    const answer = await request(base, '/json')
    const [trace] = await traces(t, 1)
    expect(trace?.metrics).toMatchObject({
      response_code: 200,
      request_payload_size: 0,
      response_payload_size: Number(answer.headers.get('content-length')),
    })
    expect(trace?.metrics.response_payload_size).toBe(Buffer.byteLength(answer.body))
    expect(trace?.metrics.response_time).toBeGreaterThanOrEqual(0)
    expect(Math.abs(trace!.etz - trace!.stz - trace!.metrics.response_time!)).toBeLessThanOrEqual(1)
  })

  it('counts bytes of chunked and streamed responses as they are written', async () => {
    const { t, base } = await app()
    const chunked = await request(base, '/chunked')
    expect(chunked.headers.get('transfer-encoding')).toBe('chunked')
    const streamed = await request(base, '/stream')
    expect(streamed.headers.get('content-length')).toBeNull()
    const sent = await request(base, '/send-file')
    const raw = await request(base, '/raw-end')
    const received = await traces(t, 4)
    const size = (name: string) =>
      received.find((trace) => trace.name === name)?.metrics.response_payload_size
    expect(size('GET /chunked')).toBe(Buffer.byteLength(chunked.body))
    expect(size('GET /chunked')).toBe(Buffer.byteLength('first chunk, second chunk, and ünïcode at the end'))
    expect(size('GET /stream')).toBe(FILE_BYTES)
    expect(streamed.body.length).toBe(FILE_BYTES)
    expect(size('GET /send-file')).toBe(FILE_BYTES)
    expect(sent.body.length).toBe(FILE_BYTES)
    expect(size('GET /raw-end')).toBe(12)
    expect(raw.body).toBe('twelve bytes')
  })

  it('reports the request body from Content-Length, or counted when it is chunked and read', async () => {
    const { t, base } = await app()
    const json = JSON.stringify({ name: 'Ada', roles: ['admin', 'ops'], note: 'ünïcode' })
    const answer = await request(base, '/echo-size', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: json,
    })
    expect(answer.status).toBe(201)
    const chunks = ['part one;', 'part twö;', 'part three']
    const chunkedAnswer = await request(base, '/consume', {
      method: 'POST',
      body: Readable.toWeb(Readable.from(chunks.map((chunk) => Buffer.from(chunk)))) as ReadableStream,
      duplex: 'half',
    } as RequestInit)
    const expectedBytes = Buffer.byteLength(chunks.join(''))
    expect(JSON.parse(chunkedAnswer.body)).toEqual({ bytes: expectedBytes })
    const received = await traces(t, 2)
    expect(received.find((trace) => trace.name === 'POST /echo-size')?.metrics).toMatchObject({
      response_code: 201,
      request_payload_size: Buffer.byteLength(json),
      response_payload_size: Buffer.byteLength(answer.body),
    })
    expect(received.find((trace) => trace.name === 'POST /consume')?.metrics).toMatchObject({
      response_code: 200,
      request_payload_size: expectedBytes,
    })
  })

  it('records an aborted request once, when the client goes away', async () => {
    const { t, base } = await app()
    const reached = new Promise<void>((resolve) => {
      slowReached = resolve
    })
    const url = new URL('/slow', base)
    const client = httpRequest({ host: url.hostname, port: url.port, path: url.pathname })
    client.on('error', () => {})
    client.end()
    await reached
    client.destroy()
    const [trace] = await traces(t, 1)
    expect(trace).toMatchObject({
      name: 'GET /slow',
      metrics: { response_code: 499, request_payload_size: 0, response_payload_size: 0 },
    })
    expect(t.server.traces()).toHaveLength(1)
    expect(t.server.crashes()).toEqual([])
  })
})
