import * as api from '@opentelemetry/api'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici'
import { NodeSDK } from '@opentelemetry/sdk-node'
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import * as otel from '../src/index.js'
import type { OtelSdk } from './scenarios/index.js'

/** The OpenTelemetry SDK 2.x line (runs on Node 20), with the exporter built from source. */
export const sdkV2: OtelSdk = {
  line: '2.x',
  TracerProvider: BasicTracerProvider,
  simpleProcessor: (exporter) => new SimpleSpanProcessor(exporter),
  batchProcessor: (exporter, options) => new BatchSpanProcessor(exporter, options),
  InMemorySpanExporter,
  NodeSDK,
  HttpInstrumentation,
  UndiciInstrumentation,
  api,
  otel,
}
