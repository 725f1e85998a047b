import type { TelemeterConfig } from '@telemeter/core'
import { afterEach } from 'vitest'
import type { TelemeterSpanExporterOptions } from '../../src/index.js'
import { type Backend, startBackend } from '../helpers.js'
import type {
  ExporterLike,
  OtelSdk,
  SpanLike,
  StartSpanOptions,
  TracerLike,
  TracerProviderLike,
} from './sdk.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Run after the current test, last registered first. */
export function onCleanup(cleanup: () => Promise<void>): void {
  cleanups.push(cleanup)
}

export interface Harness {
  readonly backend: Backend
  readonly exporter: ExporterLike
  readonly provider: TracerProviderLike
  readonly tracer: TracerLike
  /** A span started at `startMs`, ended `durationMs` later. */
  span(name: string, options: SpanOptions): SpanLike
  /** Export everything ended so far and deliver it to the test server. */
  flush(): Promise<void>
}

export interface SpanOptions extends Omit<StartSpanOptions, 'startTime'> {
  startMs?: number
  /** Leave the span open when undefined. */
  durationMs?: number
  parent?: SpanLike
  /** Called before the span ends. */
  before?: (span: SpanLike) => void
}

export type ProcessorKind = 'simple' | 'batch'

/**
 * A test server, a Telemeter, the exporter under test in a real span
 * processor of `sdk`, and a tracer of a real tracer provider.
 */
export async function harness(
  sdk: OtelSdk,
  options: Omit<TelemeterSpanExporterOptions, 'telemeter'> = {},
  config: { telemeter?: Partial<TelemeterConfig>; processor?: ProcessorKind } = {},
): Promise<Harness> {
  const backend = await startBackend(config.telemeter)
  const exporter = new sdk.otel.TelemeterSpanExporter({ telemeter: backend.telemeter, ...options })
  const processor =
    config.processor === 'batch'
      ? sdk.batchProcessor(exporter, { scheduledDelayMillis: 5 })
      : sdk.simpleProcessor(exporter)
  const provider = new sdk.TracerProvider({ spanProcessors: [processor] })
  const tracer = provider.getTracer('scenario')
  onCleanup(async () => {
    await provider.shutdown()
    await backend.close()
  })
  return {
    backend,
    exporter,
    provider,
    tracer,
    span(name, { startMs = Date.now() - 1_000, durationMs, parent, before, ...rest }) {
      const span = tracer.startSpan(
        name,
        { ...rest, startTime: new Date(startMs) },
        parent ? sdk.api.trace.setSpan(sdk.api.ROOT_CONTEXT, parent) : undefined,
      )
      before?.(span)
      if (durationMs !== undefined) span.end(new Date(startMs + durationMs))
      return span
    },
    async flush() {
      await provider.forceFlush()
      await exporter.forceFlush()
    },
  }
}
