import type { ServerResponse } from 'node:http'
import type { ReceivedHttpRequest } from '../types.js'
import { RECORDED_RESPONSE_MAX_CHARS } from './constants.js'

/** What a handler decided to answer: a status and a JSON value. */
export interface Answer {
  status: number
  body: unknown
}

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8'

/** `common.returnMessage`: `{"result": message}`. */
export function message(status: number, text: string): Answer {
  return { status, body: { result: text } }
}

/** `common.returnOutput`: a raw JSON object, 200. */
export function output(body: unknown): Answer {
  return { status: 200, body }
}

/** `escape_html_entities` without `more`: only `<` and `>` in string values are escaped. */
export function serialise(body: unknown): string {
  return JSON.stringify(body, (_key, value: unknown) =>
    typeof value === 'string' ? value.replace(/</g, '&lt;').replace(/>/g, '&gt;') : value,
  )
}

export function recordResponse(record: ReceivedHttpRequest, status: number, body: string): void {
  record.status = status
  record.responseBody =
    body.length > RECORDED_RESPONSE_MAX_CHARS ? body.slice(0, RECORDED_RESPONSE_MAX_CHARS) : body
}

/** Send a JSON answer with Countly's headers and note it on the record. */
export function sendAnswer(
  res: ServerResponse,
  record: ReceivedHttpRequest,
  answer: Answer,
  headers: Record<string, string> = {},
): void {
  sendText(res, record, answer.status, serialise(answer.body), {
    'Content-Type': JSON_CONTENT_TYPE,
    ...headers,
  })
}

export function sendText(
  res: ServerResponse,
  record: ReceivedHttpRequest,
  status: number,
  body: string,
  headers: Record<string, string>,
): void {
  recordResponse(record, status, body)
  if (res.destroyed || res.writableEnded) return
  res.writeHead(status, {
    'Access-Control-Allow-Origin': '*',
    'Content-Length': String(Buffer.byteLength(body)),
    ...headers,
  })
  res.end(body)
}
