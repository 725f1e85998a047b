import * as api from '@opentelemetry/api'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import { NodeSDK } from '@opentelemetry/sdk-node'
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace'
import * as otel from '@telemeter/otel'
import type { OtelSdk } from '../../../../packages/otel/test/scenarios/index.js'

/**
 * The OpenTelemetry SDK 3.x line (Node >= 22.15): processors take an options
 * object. The exporter is the published build (`@telemeter/otel` is
 * injected: its `dist`, not its source).
 */
export const sdkV3: OtelSdk = {
  line: '3.x',
  TracerProvider,
  simpleProcessor: (exporter) => new SimpleSpanProcessor({ exporter }),
  batchProcessor: (exporter, options) => new BatchSpanProcessor({ exporter, ...options }),
  InMemorySpanExporter,
  NodeSDK,
  HttpInstrumentation,
  api,
  otel,
}
