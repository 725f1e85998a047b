import { TELEMETER_REQUEST_HEADER } from '@telemeter/core'

/**
 * Whether an HTTP request is one Telemeter sends to its Countly server: they
 * carry the `x-telemeter-sdk` header. Made to be the `ignoreOutgoingRequestHook`
 * (outgoing `RequestOptions`) and `ignoreIncomingRequestHook` (an
 * `IncomingMessage`, for a process that also runs the Countly stand-in) of
 * `@opentelemetry/instrumentation-http`, so such requests get no span at all.
 * The exporter leaves them out anyway; the hook saves the spans' cost.
 *
 * @example
 * ```ts
 * new HttpInstrumentation({
 *   ignoreOutgoingRequestHook: isTelemeterRequest,
 *   ignoreIncomingRequestHook: isTelemeterRequest,
 * })
 * ```
 */
export function isTelemeterRequest(request: { readonly headers?: unknown }): boolean {
  try {
    const headers = request?.headers
    if (typeof headers !== 'object' || headers === null) return false
    if (Array.isArray(headers)) {
      // Raw header list: [name, value, name, value, ...]
      for (let i = 0; i < headers.length; i += 2) {
        if (String(headers[i]).toLowerCase() === TELEMETER_REQUEST_HEADER) return true
      }
      return false
    }
    if ((headers as Record<string, unknown>)[TELEMETER_REQUEST_HEADER] !== undefined) return true
    for (const name in headers) {
      if (name.toLowerCase() === TELEMETER_REQUEST_HEADER) return true
    }
    return false
  } catch {
    return false
  }
}
