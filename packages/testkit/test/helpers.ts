import { createHash } from 'node:crypto'
import type { TestServer } from '../src/index.js'

export const APP_KEY = 'TEST_APP_KEY'

let lastTimestamp = Date.now() - 60 * 60 * 1000

/** Unique, increasing 13-digit ms timestamps in the recent past (like a real SDK). */
export function nextTimestamp(): number {
  lastTimestamp += 1
  return lastTimestamp
}

export type Params = Record<string, unknown>

/** The params every well-behaved request carries. */
export function base(deviceId: string, extra: Params = {}): Params {
  return {
    app_key: APP_KEY,
    device_id: deviceId,
    timestamp: nextTimestamp(),
    hour: 14,
    dow: 3,
    tz: 60,
    sdk_name: 'telemeter-node',
    sdk_version: '1.0.0',
    ...extra,
  }
}

/** `k=encodeURIComponent(v)&…`, nested values as JSON. */
export function encode(params: Params): string {
  return Object.entries(params)
    .map(
      ([key, value]) =>
        `${key}=${encodeURIComponent(typeof value === 'object' ? JSON.stringify(value) : String(value))}`,
    )
    .join('&')
}

export interface Reply {
  status: number
  text: string
  json: unknown
  headers: Headers
}

async function reply(response: Response): Promise<Reply> {
  const text = await response.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: response.status, text, json, headers: response.headers }
}

export async function get(server: TestServer, params: Params, path = '/i'): Promise<Reply> {
  return reply(await fetch(`${server.url}${path}?${encode(params)}`))
}

export async function getRaw(server: TestServer, pathAndQuery: string): Promise<Reply> {
  return reply(await fetch(`${server.url}${pathAndQuery}`))
}

export async function postForm(server: TestServer, params: Params | string, path = '/i'): Promise<Reply> {
  return reply(
    await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: typeof params === 'string' ? params : encode(params),
    }),
  )
}

export async function postJson(server: TestServer, body: unknown, path = '/i'): Promise<Reply> {
  return reply(
    await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  )
}

export function sha256Upper(text: string): string {
  return createHash('sha256').update(text).digest('hex').toUpperCase()
}

export function sha1Upper(text: string): string {
  return createHash('sha1').update(text).digest('hex').toUpperCase()
}

export const SUCCESS = { result: 'Success' }
