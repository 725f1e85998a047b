import http from 'node:http'
import https from 'node:https'
import type { OutgoingRequest } from '../types.js'
import type { WireRequest } from './request.js'
import { SDK_NAME, SDK_VERSION } from './version.js'

/** Largest response body read; anything longer is cut off (a hostile or broken server cannot exhaust memory). */
export const MAX_RESPONSE_BYTES = 1 << 20
const KEEP_ALIVE_MS = 15_000
const MAX_SOCKETS = 4

export interface HttpResponse {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
  /** The body exceeded MAX_RESPONSE_BYTES and was not read completely. */
  readonly truncated: boolean
}

export interface TransportOptions {
  readonly url: URL
  readonly timeoutMs: number
  readonly headers: Readonly<Record<string, string>>
  readonly agent: http.Agent | undefined
  readonly beforeRequest?: ((request: OutgoingRequest) => void) | undefined
  readonly onHookError?: (error: Error) => void
}

/**
 * One HTTP exchange with the server over a keep-alive agent. The whole
 * exchange (connect, send, response body) is bounded by `timeoutMs`, and
 * every request carries a header marking it as Telemeter's own traffic so
 * instrumentation (our adapters, our OTel exporter) can leave it out.
 */
export class Transport {
  private readonly agent: http.Agent
  private readonly ownsAgent: boolean
  private readonly secure: boolean
  private readonly inflight = new Set<http.ClientRequest>()
  /** Path prefix of the server URL (`/countly`), without a trailing slash. */
  private readonly basePath: string

  constructor(private readonly options: TransportOptions) {
    this.secure = options.url.protocol === 'https:'
    this.basePath = options.url.pathname.replace(/\/+$/, '')
    this.ownsAgent = options.agent === undefined
    this.agent =
      options.agent ??
      new (this.secure ? https.Agent : http.Agent)({
        keepAlive: true,
        keepAliveMsecs: KEEP_ALIVE_MS,
        maxSockets: MAX_SOCKETS,
        timeout: options.timeoutMs,
      })
  }

  /**
   * Send one request. A keep-alive socket the server closed while it sat
   * idle fails before any answer; that attempt never reached the server, so
   * it is repeated once on a fresh socket (Node's documented remedy).
   */
  async send(request: WireRequest, extraHeaders?: Record<string, string>): Promise<HttpResponse> {
    try {
      return await this.attempt(request, extraHeaders)
    } catch (error) {
      if (!(error as { reusedSocket?: boolean }).reusedSocket) throw error
      return this.attempt(request, extraHeaders)
    }
  }

  private attempt(request: WireRequest, extraHeaders?: Record<string, string>): Promise<HttpResponse> {
    const { url, timeoutMs } = this.options
    const headers: Record<string, string> = {
      'user-agent': `${SDK_NAME}/${SDK_VERSION}`,
      accept: 'application/json',
      [TELEMETER_REQUEST_HEADER]: '1',
      ...this.options.headers,
      ...extraHeaders,
    }
    let body: Buffer | undefined
    if (request.body !== undefined) {
      body = Buffer.from(request.body, 'utf8')
      headers['content-type'] = request.contentType ?? 'application/x-www-form-urlencoded'
      headers['content-length'] = String(body.length)
    }
    let agent: http.Agent | undefined = this.agent
    if (this.options.beforeRequest) {
      const outgoing: OutgoingRequest = {
        method: request.method,
        url: new URL(`${url.origin}${this.basePath}${request.path}`),
        headers,
        agent,
      }
      try {
        this.options.beforeRequest(outgoing)
        agent = outgoing.agent
      } catch (error) {
        this.options.onHookError?.(error instanceof Error ? error : new Error(String(error)))
      }
    }
    const client = this.secure ? https : http
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false
      let answered = false
      const finish = (error: Error | undefined, response?: HttpResponse) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        this.inflight.delete(req)
        if (error) reject(error)
        else resolve(response!)
      }
      const req = client.request(
        {
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port || undefined,
          method: request.method,
          path: `${this.basePath}${request.path}`,
          headers,
          agent,
        },
        (res) => {
          answered = true
          const chunks: Buffer[] = []
          let size = 0
          let truncated = false
          res.on('data', (chunk: Buffer) => {
            if (truncated) return
            size += chunk.length
            if (size > MAX_RESPONSE_BYTES) {
              truncated = true
              // Whatever the rest says, we will not read it.
              res.destroy()
              finish(undefined, {
                status: res.statusCode ?? 0,
                headers: res.headers,
                body: '',
                truncated: true,
              })
              return
            }
            chunks.push(chunk)
          })
          res.on('end', () =>
            finish(undefined, {
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
              truncated: false,
            }),
          )
          res.on('error', (error) => finish(error))
          res.on('aborted', () => finish(new Error('response aborted')))
        },
      )
      const timer = setTimeout(() => {
        const error = new Error(`request timed out after ${timeoutMs} ms`)
        req.destroy(error)
        finish(error)
      }, timeoutMs)
      timer.unref()
      this.inflight.add(req)
      req.on('error', (error: NodeJS.ErrnoException) => {
        // Stale keep-alive socket: no byte of an answer, the server never saw this request.
        if (req.reusedSocket && !answered && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) {
          Object.assign(error, { reusedSocket: true })
        }
        finish(error)
      })
      req.end(body)
    })
  }

  /** Abort everything in flight (shutdown past its deadline). */
  abortAll(): void {
    for (const req of this.inflight) req.destroy(new Error('aborted by shutdown'))
    this.inflight.clear()
  }

  close(): void {
    this.abortAll()
    if (this.ownsAgent) this.agent.destroy()
  }
}

/** Header on every request Telemeter sends to the server; instrumentation skips requests carrying it. */
export const TELEMETER_REQUEST_HEADER = 'x-telemeter-sdk'
