import type { IncomingMessage } from 'node:http'
import { parse as parseQueryString } from 'node:querystring'
import { MAX_BODY_BYTES } from './constants.js'
import { isPlainObject, type JsonObject } from './values.js'

/** The raw body, or the fact that it exceeded formidable's field size limit. */
export interface RawBody {
  text: string
  bytes: number
  tooLarge: boolean
}

/** Read the whole body, keeping at most `MAX_BODY_BYTES` (the rest is drained). */
export function readBody(req: IncomingMessage): Promise<RawBody> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let bytes = 0
    let tooLarge = false
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length
      if (bytes > MAX_BODY_BYTES) {
        tooLarge = true
        chunks.length = 0
        return
      }
      chunks.push(chunk)
    })
    const finish = () =>
      resolve({ text: tooLarge ? '' : Buffer.concat(chunks).toString('utf8'), bytes, tooLarge })
    req.on('end', finish)
    req.on('error', finish)
    req.on('close', finish)
  })
}

/** Body fields as formidable gives them, plus what checksums need. */
export interface ParsedBody {
  fields: JsonObject
  /** Multipart fields re-joined as `k=v&…` (unencoded): a checksum payload. */
  formDataUrl: string | undefined
  /** Why the body was not (fully) understood, for a violation. */
  problem: string | undefined
}

/** formidable's parsers: urlencoded, JSON and multipart; anything else is not parsed. */
export function parseBody(text: string, contentType: string | undefined): ParsedBody {
  if (text === '') return { fields: {}, formDataUrl: undefined, problem: undefined }
  const type = (contentType ?? '').toLowerCase()
  if (type.includes('urlencoded')) {
    return { fields: { ...parseQueryString(text) }, formDataUrl: undefined, problem: undefined }
  }
  if (type.includes('json')) {
    try {
      const value: unknown = JSON.parse(text)
      if (isPlainObject(value)) return { fields: value, formDataUrl: undefined, problem: undefined }
      return {
        fields: {},
        formDataUrl: undefined,
        problem: 'the JSON body is not an object; the server ignores it',
      }
    } catch {
      return {
        fields: {},
        formDataUrl: undefined,
        problem: 'the JSON body is not valid JSON; the server ignores it',
      }
    }
  }
  if (type.includes('multipart')) {
    const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType ?? '')
    const name = boundary?.[1] ?? boundary?.[2]
    if (!name)
      return { fields: {}, formDataUrl: undefined, problem: 'multipart body without a boundary is ignored' }
    const entries = parseMultipart(text, name)
    return {
      fields: Object.fromEntries(entries),
      formDataUrl: entries.map(([key, value]) => `${key}=${value}`).join('&'),
      problem: undefined,
    }
  }
  return {
    fields: {},
    formDataUrl: undefined,
    problem: `a POST body with Content-Type ${JSON.stringify(contentType ?? '')} is not parsed by the server; use application/x-www-form-urlencoded or application/json`,
  }
}

function parseMultipart(text: string, boundary: string): [string, string][] {
  const entries: [string, string][] = []
  for (const part of text.split(`--${boundary}`)) {
    const split = part.indexOf('\r\n\r\n')
    if (split < 0) continue
    const head = part.slice(0, split)
    const name = /name="([^"]*)"/i.exec(head)?.[1]
    if (name === undefined || /filename=/i.test(head)) continue
    entries.push([name, part.slice(split + 4).replace(/\r\n$/, '')])
  }
  return entries
}

/** `querystring.parse`, as Countly's `url.parse(url, true)` does. */
export function parseQuery(rawQuery: string): Record<string, string | string[]> {
  return { ...parseQueryString(rawQuery) } as Record<string, string | string[]>
}
