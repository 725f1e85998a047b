import { once } from 'node:events'
import { createServer, request as httpRequest, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import type { ResponseByteCount } from '../types.js'
import { contentLength, countRequestBytes, countResponseBytes, isBodiless } from './http-body.js'

async function serve(
  method: string,
  respond: (res: ServerResponse) => void,
): Promise<{ count: ResponseByteCount; received: number }> {
  let count: ResponseByteCount | undefined
  const server = createServer((_req, res) => {
    count = countResponseBytes(res)
    respond(res)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  try {
    const received = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method, path: '/' }, (res) => {
        let bytes = 0
        res.on('data', (chunk: Buffer) => (bytes += chunk.length))
        res.on('end', () => resolve(bytes))
      })
      req.on('error', reject)
      req.end()
    })
    return { count: count!, received }
  } finally {
    server.close()
  }
}

describe('countResponseBytes', () => {
  it('counts chunked writes of strings in any encoding and buffers', async () => {
    const { count, received } = await serve('GET', (res) => {
      res.write('héllo')
      res.write('00ff', 'hex')
      res.end(Buffer.from([1, 2, 3]), () => {})
    })
    expect(received).toBe(6 + 2 + 3)
    expect(count.bytes).toBe(11)
  })

  it('counts end(callback) as no body and reports 0 for bodiless statuses and HEAD', async () => {
    const empty = await serve('GET', (res) => res.end(() => {}))
    expect(empty.count.bytes).toBe(0)
    const notModified = await serve('GET', (res) => {
      res.statusCode = 304
      res.end('ignored')
    })
    expect(notModified.count.bytes).toBe(0)
    const head = await serve('HEAD', (res) => {
      res.setHeader('content-length', '5')
      res.end()
    })
    expect(head.count.bytes).toBe(0)
  })
})

describe('contentLength', () => {
  it('reads numbers, strings and header arrays and rejects the rest', () => {
    expect(contentLength('120')).toBe(120)
    expect(contentLength(7)).toBe(7)
    expect(contentLength(['42', '1'])).toBe(42)
    expect(contentLength(undefined)).toBeUndefined()
    expect(contentLength('')).toBeUndefined()
    expect(contentLength('-1')).toBeUndefined()
    expect(contentLength('1.5')).toBeUndefined()
    expect(contentLength('abc')).toBeUndefined()
  })
})

describe('countResponseBytes, called twice', () => {
  it('counts a response once', async () => {
    let second: ResponseByteCount | undefined
    const { count } = await serve('GET', (res) => {
      second = countResponseBytes(res)
      res.end('abc')
    })
    expect(second).toBe(count)
    expect(count.bytes).toBe(3)
  })
})

describe('countRequestBytes', () => {
  it('counts a chunked body as the app reads it, once however often it is called', async () => {
    const server = createServer((req, res) => {
      const count = countRequestBytes(req)
      expect(countRequestBytes(req)).toBe(count)
      req.resume()
      req.on('end', () => res.end(String(count.bytes)))
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const { port } = server.address() as AddressInfo
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/' }, (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => (text += chunk))
          res.on('end', () => resolve(text))
        })
        req.on('error', reject)
        req.write('héllo ')
        req.write(Buffer.alloc(1000, 1))
        req.end('!')
      })
      expect(answer).toBe(String(6 + 1 + 1000 + 1))
    } finally {
      server.close()
    }
  })
})

describe('isBodiless', () => {
  it('is true for HEAD and for 204, 205 and 304, whatever the other', () => {
    expect(isBodiless('HEAD', 200)).toBe(true)
    for (const status of [204, 205, 304]) expect(isBodiless('GET', status)).toBe(true)
    for (const status of [200, 201, 404, 500]) expect(isBodiless('GET', status)).toBe(false)
    expect(isBodiless(undefined, 200)).toBe(false)
  })
})
