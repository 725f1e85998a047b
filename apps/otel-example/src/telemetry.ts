import { createRequire } from 'node:module'
import { context, propagation, trace } from '@opentelemetry/api'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici'
import { NodeSDK } from '@opentelemetry/sdk-node'
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base'
import type { Telemeter } from '@telemeter/core'
import { isTelemeterRequest, TelemeterSpanExporter } from '@telemeter/otel'

export interface Telemetry {
  /**
   * Export what is buffered, stop OpenTelemetry and remove its patches and
   * globals. (The http instrumentation patches node:http once per process: a
   * second setup in the same process gets no server spans.)
   */
  shutdown(): Promise<void>
}

/**
 * An ordinary OpenTelemetry setup (NodeSDK, http and fetch instrumentation,
 * a batch span processor) whose spans go to Countly through Telemeter.
 */
export function startTelemetry(telemeter: Telemeter): Telemetry {
  const instrumentations = [
    new HttpInstrumentation({
      // Telemeter's own requests to Countly (and, when the Countly stand-in
      // runs in this process, their arrival) get no span at all.
      ignoreOutgoingRequestHook: isTelemeterRequest,
      ignoreIncomingRequestHook: isTelemeterRequest,
      // x-device-id maps a request to a device; content-length gives the sizes.
      headersToSpanAttributes: {
        server: { requestHeaders: ['x-device-id', 'content-length'], responseHeaders: ['content-length'] },
      },
    }),
    new UndiciInstrumentation(),
  ]
  const sdk = new NodeSDK({
    serviceName: 'otel-example',
    spanProcessors: [
      new BatchSpanProcessor(new TelemeterSpanExporter({ telemeter }), { scheduledDelayMillis: 200 }),
    ],
    instrumentations,
    logRecordProcessors: [],
    metricReaders: [],
  })
  sdk.start()
  // Without a loader hook, the http instrumentation patches node:http when it
  // is next required; every ESM importer shares that one module object.
  createRequire(import.meta.url)('node:http')
  return {
    async shutdown() {
      await sdk.shutdown()
      for (const instrumentation of instrumentations) instrumentation.disable()
      trace.disable()
      context.disable()
      propagation.disable()
    },
  }
}
