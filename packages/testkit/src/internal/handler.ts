import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Fault, ReceivedHttpRequest } from '../types.js'
import { parseBody, parseQuery, readBody } from './body.js'
import { planBulk } from './bulk.js'
import { MAX_BODY_BYTES, MAX_HEADER_BYTES } from './constants.js'
import { answerWithoutProcessing, type FaultSlot, sendOversized, takeFault } from './faults.js'
import { ingest } from './ingest.js'
import { type Answer, message, recordResponse, sendAnswer } from './respond.js'
import { processSdkRequest } from './sdk-endpoint.js'
import { emit, notifyProgress, recordViolation, type ServerState } from './state.js'
import type { JsonObject } from './values.js'

/** What the handler needs from the server that owns the sockets. */
export interface HandlerHost {
  readonly state: ServerState
  readonly faults: FaultSlot
  /** Register cleanup to run on `close()` (hanging answers, endless writers, slow timers); returns an unregister. */
  onClose(cleanup: () => void): () => void
}

export function createHandler(host: HandlerHost): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(host, req, res).catch((error: unknown) => {
      // A testkit bug must show up as a 500, never as a crashed test process.
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'Content-Type': 'text/plain' })
        res.end(String(error instanceof Error ? error.stack : error))
      }
    })
  }
}

/** Countly's route: path prefix stripped, then the first two path segments. */
export function routeOf(path: string, prefix: string): string {
  let rest = path
  if (prefix !== '' && (rest === prefix || rest.startsWith(`${prefix}/`))) rest = rest.slice(prefix.length)
  const segments = rest.split('/').slice(1, 3)
  return `/${segments.join('/')}`
}

async function handle(host: HandlerHost, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { state } = host
  const url = req.url ?? '/'
  const queryStart = url.indexOf('?')
  const path = queryStart >= 0 ? url.slice(0, queryStart) : url
  const rawQuery = queryStart >= 0 ? url.slice(queryStart + 1) : ''
  const method = (req.method ?? 'GET').toUpperCase()
  const endpoint = routeOf(path, state.options.pathPrefix)
  const record: ReceivedHttpRequest = {
    method,
    path,
    endpoint,
    query: parseQuery(rawQuery),
    rawQuery,
    body: '',
    headers: { ...req.headers },
    status: undefined,
    responseBody: undefined,
    fault: undefined,
    receivedAt: Date.now(),
  }
  const requestIndex = state.requests.push(record) - 1
  emit(state, { kind: 'request', request: record })
  const done = () => {
    emit(state, { kind: 'response', request: record })
    notifyProgress(state)
  }

  if (headerBytes(req, url) >= MAX_HEADER_BYTES) {
    recordViolation(
      state,
      'url-too-long',
      `URL + headers exceed ${MAX_HEADER_BYTES} bytes (URL is ${url.length} chars): Node answers 431; send long requests as POST`,
      endpoint,
      deviceIdOf(record.query),
    )
    recordResponse(record, 431, '')
    res.writeHead(431, { Connection: 'close' })
    res.end()
    req.resume()
    return done()
  }

  const fault = takeFault(host.faults, { endpoint, method })
  record.fault = fault?.type
  const raw = await readBody(req)
  record.body = raw.text

  if (fault && handleFaultBeforeProcessing(host, fault, req, res, record)) return done()

  if (raw.tooLarge) {
    recordViolation(
      state,
      'body-too-large',
      `body of ${raw.bytes} bytes exceeds formidable's maxFieldsSize (${MAX_BODY_BYTES} bytes); the server rejects it`,
      endpoint,
    )
    sendAnswer(res, record, message(413, 'Request body too large'), { Connection: 'close' })
    return done()
  }

  const answer = dispatch(host, req, record, requestIndex)

  if (fault?.type === 'slow') {
    await new Promise<void>((resolve) => {
      const unregister = host.onClose(() => {
        clearTimeout(timer)
        resolve()
      })
      const timer = setTimeout(() => {
        unregister()
        resolve()
      }, fault.delayMs)
    })
  }
  if (fault?.type === 'reset-after-processing') {
    req.socket.destroy()
  } else if (fault?.type === 'oversized-response') {
    sendOversized(res, record, fault.bytes)
  } else if (answer.kind === 'options') {
    recordResponse(record, 200, '')
    res.writeHead(200, {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Methods': 'POST, GET, OPTIONS',
      'Access-Control-Allow-Headers': 'countly-token, Content-Type',
      'Content-Length': '0',
    })
    res.end()
  } else {
    sendAnswer(res, record, answer.answer)
  }
  answer.after()
  done()
}

function handleFaultBeforeProcessing(
  host: HandlerHost,
  fault: Fault,
  req: IncomingMessage,
  res: ServerResponse,
  record: ReceivedHttpRequest,
): boolean {
  if (fault.type === 'reset') {
    req.socket.destroy()
    return true
  }
  if (fault.type === 'hang') {
    const unregister = host.onClose(() => req.socket.destroy())
    req.socket.once('close', unregister)
    return true
  }
  return answerWithoutProcessing(fault, res, record, (stop) => {
    const unregister = host.onClose(stop)
    res.once('close', unregister)
  })
}

type Dispatched =
  | { kind: 'options'; after: () => void }
  | { kind: 'answer'; answer: Answer; after: () => void }

function dispatch(
  host: HandlerHost,
  req: IncomingMessage,
  record: ReceivedHttpRequest,
  requestIndex: number,
): Dispatched {
  const { state } = host
  const none = () => {}
  const { method, endpoint } = record
  if (method === 'OPTIONS') return { kind: 'options', after: none }
  if (method !== 'GET' && method !== 'POST') {
    return { kind: 'answer', answer: message(405, 'Method not allowed'), after: none }
  }
  const isPost = method === 'POST'
  const body = isPost ? parseBody(record.body, req.headers['content-type']) : undefined
  const params: JsonObject = { ...record.query, ...body?.fields }
  const deviceId = params.device_id ? String(params.device_id) : undefined
  if (body?.problem) recordViolation(state, 'unparsed-body', body.problem, endpoint, deviceId)

  for (const name of ['app_id', 'user_id'] as const) {
    const value = params[name]
    if (value === undefined || value === '' || value === null) continue
    recordViolation(state, 'forbidden-param', `SDKs must never send "${name}"`, endpoint, deviceId)
    if (String(value).length !== 24) {
      return { kind: 'answer', answer: message(400, `Invalid parameter "${name}"`), after: none }
    }
  }

  const checksumPayloads = [record.rawQuery]
  if (isPost) checksumPayloads.push(body?.formDataUrl ?? record.body)
  const ip = clientIp(req)
  switch (endpoint) {
    case '/o/ping':
      return { kind: 'answer', answer: message(200, 'Success'), after: none }
    case '/i':
      return {
        kind: 'answer',
        answer: ingest(state, {
          via: isPost ? 'POST' : 'GET',
          endpoint,
          params,
          checksumPayloads,
          hashPayload: isPost ? `${record.rawQuery}&${record.body}` : record.rawQuery,
          ip,
          requestIndex,
        }),
        after: none,
      }
    case '/i/bulk': {
      const plan = planBulk(state, params, ip, requestIndex, endpoint)
      if (state.options.safe) {
        plan.process()
        return { kind: 'answer', answer: plan.answer, after: none }
      }
      return { kind: 'answer', answer: plan.answer, after: plan.process }
    }
    case '/o/sdk':
    case '/i/sdk':
      return {
        kind: 'answer',
        answer: processSdkRequest(state, params, checksumPayloads, endpoint),
        after: none,
      }
    default:
      return { kind: 'answer', answer: message(400, 'Invalid path'), after: none }
  }
}

/** `common.getIpAddress`: X-Forwarded-For (left-most), X-Real-IP, then the socket. */
function clientIp(req: IncomingMessage): string {
  const forwarded = req.headers['x-forwarded-for']
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim()
  const realIp = req.headers['x-real-ip']
  const ip = first || (Array.isArray(realIp) ? realIp[0] : realIp) || req.socket.remoteAddress || ''
  return ip.replace(/^::ffff:/, '')
}

/** What Node's parser counts against `--max-http-header-size` (431 at 16384): the URL plus header names and values. */
function headerBytes(req: IncomingMessage, url: string): number {
  let bytes = Buffer.byteLength(url)
  for (const part of req.rawHeaders) bytes += Buffer.byteLength(part)
  return bytes
}

function deviceIdOf(query: Record<string, string | string[]>): string | undefined {
  const value = query.device_id
  return value === undefined ? undefined : String(value)
}
