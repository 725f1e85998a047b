import { RESERVED_APM_METRICS, toApmKey } from '@telemeter/core'

/** Sanitised names are cached: a service has few distinct span names and attribute keys. */
const MAX_CACHED_NAMES = 2_000

/**
 * Numeric attributes that identify rather than measure (ports, process and
 * thread ids, source line numbers, status codes): not sent as metrics.
 */
const IDENTIFIER_ATTRIBUTE =
  /(?:^|[._])(?:port|pid|ppid|id|lineno|line\.number|column|column\.number|status_code)$/

/** Why a name or key was left out, for the one warning per kind. */
export type Unsafe = (kind: 'trace-name' | 'metric-key', raw: string, why: string) => void

/**
 * Core's `toApmKey` (`db.query users` -> `db_query_users`, at most 32
 * characters) behind a bounded cache, one per exporter.
 */
export class ApmNames {
  private readonly names = new Map<string, string | null>()
  private readonly keys = new Map<string, string | null>()

  constructor(private readonly unsafe: Unsafe) {}

  /** A custom trace key for a span name, or undefined (warned) when it cannot be made safe. */
  traceName(raw: string): string | undefined {
    let key = this.names.get(raw)
    if (key === undefined) {
      key = toApmKey(raw) ?? null
      remember(this.names, raw, key)
    }
    if (key === null) this.unsafe('trace-name', raw, 'it has no letter to start a valid key')
    return key ?? undefined
  }

  /**
   * Custom metrics from a span's numeric attributes, keys sanitised; keys
   * that are reserved or cannot be made safe are dropped (warned), and of
   * two attributes that sanitise alike the first wins.
   */
  metrics(attributes: Readonly<Record<string, unknown>>): Record<string, number> {
    const metrics: Record<string, number> = {}
    for (const raw in attributes) {
      const value = attributes[raw]
      if (typeof value !== 'number' || !Number.isFinite(value)) continue
      let key = this.keys.get(raw)
      if (key === undefined) {
        key = IDENTIFIER_ATTRIBUTE.test(raw) ? null : (toApmKey(raw) ?? null)
        if (key !== null && RESERVED_APM_METRICS.has(key)) {
          this.unsafe('metric-key', raw, `"${key}" is reserved by the server`)
          key = null
        } else if (key === null && !IDENTIFIER_ATTRIBUTE.test(raw)) {
          this.unsafe('metric-key', raw, 'it has no letter to start a valid key')
        }
        remember(this.keys, raw, key)
      }
      if (key !== null && !(key in metrics)) metrics[key] = value
    }
    return metrics
  }
}

function remember(cache: Map<string, string | null>, raw: string, key: string | null): void {
  if (cache.size >= MAX_CACHED_NAMES) cache.clear()
  cache.set(raw, key)
}
