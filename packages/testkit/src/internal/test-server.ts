import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { Fault, TestServer, TestServerOptions } from '../types.js'
import { PARSER_MAX_HEADER_BYTES } from './constants.js'
import { type FaultSlot, setFaultSlot } from './faults.js'
import { createHandler } from './handler.js'
import { clearReceived, createState, type ServerState } from './state.js'
import { cloneUser } from './users.js'
import { waitFor } from './wait.js'

const states = new WeakMap<TestServer, ServerState>()

/** The internal state behind a server made by `startTestServer` (for `printLive`). */
export function stateOf(server: TestServer): ServerState {
  const state = states.get(server)
  if (!state) throw new TypeError('[telemeter] not a server returned by startTestServer()')
  return state
}

/**
 * Start a protocol-validating Countly stand-in on 127.0.0.1 (a free port by
 * default). It answers and rejects exactly like a Countly server reads the
 * protocol, records everything it receives, and lists every protocol
 * violation a real server would silently swallow.
 *
 * @param options - app keys, salt, port, path prefix, remote / SDK config, server settings; all optional
 * @returns the running server; call `close()` when done
 * @example
 * import { startTestServer } from '@telemeter/testkit'
 *
 * const server = await startTestServer({ appKey: 'APP_KEY' })
 * await fetch(`${server.url}/i?app_key=APP_KEY&device_id=d1&timestamp=${Date.now()}&events=` +
 *   encodeURIComponent(JSON.stringify([{ key: 'signup', count: 1 }])))
 * server.events({ key: 'signup' }) // [{ key: 'signup', count: 1, device_id: 'd1', … }]
 * await server.close()
 */
export async function startTestServer(options?: TestServerOptions): Promise<TestServer> {
  const state = createState(options)
  if (state.options.appKeys.length === 0 || state.options.appKeys.some((key) => key === '')) {
    throw new TypeError('[telemeter] appKey must name at least one non-empty app key')
  }
  const faults: FaultSlot = { fault: null, remaining: undefined }
  const sockets = new Set<Socket>()
  const cleanups = new Set<() => void>()
  const handler = createHandler({
    state,
    faults,
    onClose: (cleanup) => {
      cleanups.add(cleanup)
      return () => {
        cleanups.delete(cleanup)
      }
    },
  })
  let http: Server | undefined
  let port = state.options.port
  let closed = false
  /** Settles when the listen / stop transitions caused by `down` faults and `close()` are done. */
  let transition: Promise<void> = Promise.resolve()

  // Both transitions take effect synchronously (the listening socket is bound or
  // closed before any I/O), so a request sent right after setFault() sees them.
  const startListening = (): Promise<void> => {
    const server = createServer({ maxHeaderSize: PARSER_MAX_HEADER_BYTES }, handler)
    server.on('connection', (socket: Socket) => {
      state.connections += 1
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    })
    http = server
    return new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, state.options.host, () => {
        server.off('error', reject)
        port = (server.address() as AddressInfo).port
        resolve()
      })
    })
  }

  const stopListening = (): Promise<void> => {
    const server = http
    http = undefined
    for (const cleanup of cleanups) cleanup()
    cleanups.clear()
    for (const socket of sockets) socket.destroy()
    sockets.clear()
    return server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve()
  }

  await startListening()
  const host = state.options.host
  const urlHost =
    host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host
  const baseUrl = () => `http://${urlHost}:${port}${state.options.pathPrefix}`

  const server: TestServer = {
    get url() {
      return baseUrl()
    },
    get port() {
      return port
    },
    get requests() {
      return state.requests
    },
    get items() {
      return state.items
    },
    get connections() {
      return state.connections
    },
    get violations() {
      return state.violations
    },
    events(filter = {}) {
      return state.events.filter(
        (event) =>
          (filter.key === undefined || event.key === filter.key) &&
          (filter.deviceId === undefined || event.device_id === filter.deviceId),
      )
    },
    crashes(deviceId) {
      return state.crashes.filter((crash) => deviceId === undefined || crash.device_id === deviceId)
    },
    traces(filter = {}) {
      return state.traces.filter(
        (trace) =>
          (filter.type === undefined || trace.type === filter.type) &&
          (filter.name === undefined || trace.name === filter.name) &&
          (filter.deviceId === undefined || trace.device_id === filter.deviceId),
      )
    },
    user(deviceId) {
      for (const appKey of state.options.appKeys) {
        const record = state.users.get(`${appKey}\u0000${deviceId}`)
        if (record) return cloneUser(record.doc)
      }
      return undefined
    },
    users() {
      return [...state.users.values()].map((record) => cloneUser(record.doc))
    },
    waitFor(predicate, timeoutMs) {
      return waitFor(server, state, predicate, timeoutMs)
    },
    setFault(fault: Fault | null) {
      const wasDown = faults.fault?.type === 'down'
      const goesDown = fault?.type === 'down'
      setFaultSlot(faults, fault)
      if (closed || wasDown === goesDown) return
      const change = (goesDown ? stopListening() : startListening()).catch(() => {})
      transition = Promise.all([transition, change]).then(() => {})
    },
    setRemoteConfig(values) {
      state.remoteConfig = { ...values }
    },
    setSdkConfig(config) {
      state.sdkConfig = { ...config }
    },
    reset() {
      clearReceived(state)
    },
    close() {
      if (!closed) {
        closed = true
        clearReceivedTimers(state)
        transition = Promise.all([transition, stopListening()]).then(() => {})
      }
      return transition
    },
  }
  states.set(server, state)
  return server
}

function clearReceivedTimers(state: ServerState): void {
  for (const record of state.users.values()) {
    if (record.pendingClose?.timer) clearTimeout(record.pendingClose.timer)
  }
}
