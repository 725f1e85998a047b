import type { TestServer } from '../types.js'
import { WAIT_FOR_DEFAULT_TIMEOUT_MS, WAIT_FOR_POLL_INTERVAL_MS } from './constants.js'
import type { ServerState } from './state.js'
import { summarize } from './summary.js'

/** `server.waitFor`: checks on every processed request and every 25 ms. */
export function waitFor(
  server: TestServer,
  state: ServerState,
  predicate: (server: TestServer) => boolean,
  timeoutMs: number = WAIT_FOR_DEFAULT_TIMEOUT_MS,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false
    let lastError: unknown
    const cleanup = () => {
      settled = true
      clearInterval(interval)
      clearTimeout(timeout)
      state.onProgress.delete(check)
    }
    const check = () => {
      if (settled) return
      let met = false
      try {
        met = predicate(server)
      } catch (error) {
        lastError = error
      }
      if (met) {
        cleanup()
        resolve()
      }
    }
    const interval = setInterval(check, WAIT_FOR_POLL_INTERVAL_MS)
    const timeout = setTimeout(() => {
      if (settled) return
      cleanup()
      const cause =
        lastError === undefined
          ? ''
          : ` (the predicate last threw: ${lastError instanceof Error ? lastError.message : String(lastError)})`
      reject(
        new Error(
          `waitFor: condition not met within ${timeoutMs} ms${cause}. Received:\n${summarize(server)}`,
        ),
      )
    }, timeoutMs)
    state.onProgress.add(check)
    check()
  })
}
