import { MAX_RETRY_AFTER_MS } from './config.js'
import type { HttpResponse } from './transport.js'

/** What a server answer means for the requests it carried (PROTOCOL "What Telemeter decides"). */
export type Outcome =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'rejected'; readonly reason: string }
  | {
      readonly kind: 'retry'
      readonly reason: string
      readonly retryAfterMs?: number
      readonly status?: number
    }

/** 400 answers the server gives for conditions that pass (database or merge trouble). */
const TRANSIENT_400 = [
  'Cannot get app user',
  'Cannot update user',
  'User merged. Failed to record data.',
  'Cannot create uid',
  'Could not ingest data',
  'Could not record events',
  'App is currently not accepting data',
]

/** 200 answers that are in fact permanent refusals. */
const REFUSED_200 = [
  'Request does not match checksum',
  'Request does not have checksum',
  'Ignoring device_id',
]

export function resultOf(body: string): unknown {
  try {
    const parsed = JSON.parse(body) as unknown
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as { result?: unknown }).result
      : undefined
  } catch {
    return undefined
  }
}

/** Retry-After in seconds or as an HTTP date; capped so a bad header cannot park the queue forever. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value
  if (!text) return undefined
  const seconds = Number(text)
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(text) - now
  if (!Number.isFinite(ms) || ms < 0) return undefined
  return Math.min(ms, MAX_RETRY_AFTER_MS)
}

export function classifyResponse(response: HttpResponse): Outcome {
  const { status } = response
  const result = response.truncated ? undefined : resultOf(response.body)
  const message = typeof result === 'string' ? result : undefined
  if (status >= 200 && status < 300) {
    if (message !== undefined && REFUSED_200.some((refusal) => message.startsWith(refusal))) {
      return { kind: 'rejected', reason: message }
    }
    if (result !== undefined) return { kind: 'delivered' }
    return { kind: 'retry', reason: `HTTP ${status} without a Countly result body`, status }
  }
  if (status === 429 || status >= 500) {
    return {
      kind: 'retry',
      reason: message ? `HTTP ${status}: ${message}` : `HTTP ${status}`,
      retryAfterMs: parseRetryAfter(response.headers['retry-after']),
      status,
    }
  }
  if (
    status === 400 &&
    message !== undefined &&
    TRANSIENT_400.some((transient) => message.startsWith(transient))
  ) {
    return { kind: 'retry', reason: `HTTP 400: ${message}`, status }
  }
  if (status === 408) return { kind: 'retry', reason: 'HTTP 408', status }
  return { kind: 'rejected', reason: message ? `HTTP ${status}: ${message}` : `HTTP ${status}` }
}

/**
 * Exponential backoff with full jitter between half and all of the step,
 * starting at `baseMs` and never above `maxMs`.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30))
  return Math.round(step / 2 + random() * (step / 2))
}
