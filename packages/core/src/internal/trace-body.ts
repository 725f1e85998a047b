/**
 * The JSON body of an APM trace request, written from one template. Traces
 * are the hottest request kind (one per HTTP request in the adapters), and
 * on Node 20 this costs about a third of `JSON.stringify` of the merged
 * parameters, delivery included (measured in bench/). Only this shape takes
 * the template; every other request is stringified natively. A unit test
 * holds the output equal to `JSON.stringify`.
 */

/** The `apm` parameter as apm.ts builds it. */
export interface TraceParam {
  readonly type: string
  readonly name: string
  readonly stz: number
  readonly etz: number
  readonly apm_metrics: Readonly<Record<string, number>>
  readonly timestamp: number
  readonly hour: number
  readonly dow: number
}

/** Trace names repeat (route templates): their JSON text is kept, boundedly. */
const NAME_CACHE_LIMIT = 2_000
const nameJson = new Map<string, string>()

function quoted(name: string): string {
  let text = nameJson.get(name)
  if (text === undefined) {
    text = JSON.stringify(name)
    if (nameJson.size >= NAME_CACHE_LIMIT) nameJson.clear()
    nameJson.set(name, text)
  }
  return text
}

/**
 * A trace as apm.ts builds it: finite numbers, metric names that are
 * identifiers. Being an instance of this class is what lets the template
 * below write it (cheaper than a WeakSet mark); its own enumerable fields
 * are the same as the plain object's, so JSON.stringify writes it the same.
 */
class Trace implements TraceParam {
  constructor(
    readonly type: string,
    readonly name: string,
    readonly stz: number,
    readonly etz: number,
    readonly apm_metrics: Readonly<Record<string, number>>,
    readonly timestamp: number,
    readonly hour: number,
    readonly dow: number,
  ) {}
}

/**
 * A trace for the `apm` parameter. Only apm.ts calls it, with what it
 * validated: finite numbers, metric names that are identifiers.
 */
export function createTrace(
  type: string,
  name: string,
  stz: number,
  etz: number,
  metrics: Readonly<Record<string, number>>,
  hour: number,
  dow: number,
): TraceParam {
  return new Trace(type, name, stz, etz, metrics, stz, hour, dow)
}

/** The trace of a request's parameters when they are a marked `{ apm }`. */
export function traceOf(params: Readonly<Record<string, unknown>>): TraceParam | undefined {
  const apm = params.apm
  return apm instanceof Trace ? apm : undefined
}

function metricsJson(metrics: Readonly<Record<string, number>>): string {
  let out = ''
  for (const name in metrics) out += `${out ? ',' : ''}"${name}":${metrics[name]}`
  return `{${out}}`
}

/**
 * `head` is the request's JSON up to and including its `tz` and SDK fields
 * (no closing brace); the result is a flat string (not a rope of pieces,
 * which would multiply the objects the garbage collector walks while the
 * request waits in the queue).
 */
export function traceBody(head: string, trace: TraceParam, rr: number): string {
  const body = `${head},"apm":{"type":${quoted(trace.type)},"name":${quoted(trace.name)},"stz":${trace.stz},"etz":${trace.etz},"apm_metrics":${metricsJson(trace.apm_metrics)},"timestamp":${trace.timestamp},"hour":${trace.hour},"dow":${trace.dow}},"rr":${rr}}`
  // Reading a character makes V8 flatten the concatenation in place.
  body.charCodeAt(0)
  return body
}
