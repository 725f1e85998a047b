import type { ExportableSpan } from '../types.js'
import { EXCEPTION_EVENT, MAX_REMEMBERED_EXCEPTIONS } from './constants.js'
import { attributesOf, stringAttribute } from './span.js'

/** An exception as core's crash reporter reads it (no `new Error()`: no stack capture per span). */
export interface SpanException {
  readonly name: string
  readonly message: string
  readonly stack: string
}

/** Longest part of a stack trace used to recognise an exception seen before. */
const MAX_KEY_STACK_LENGTH = 2_000

/** The `exception` events of a span (`span.recordException()`), as error objects. */
export function exceptionsOf(span: ExportableSpan): SpanException[] {
  const events = span.events
  if (!Array.isArray(events) || events.length === 0) return []
  const exceptions: SpanException[] = []
  for (const event of events) {
    if (event?.name !== EXCEPTION_EVENT) continue
    const attributes = attributesOf(event)
    const message = stringAttribute(attributes, 'exception.message') ?? ''
    const name = stringAttribute(attributes, 'exception.type') ?? 'Error'
    const header = message === '' ? name : `${name}: ${message}`
    exceptions.push({ name, message, stack: stringAttribute(attributes, 'exception.stacktrace') ?? header })
  }
  return exceptions
}

/**
 * Exceptions reported recently, by trace: an error recorded on a span and
 * again on each of its parents is one crash, not one per span. Bounded.
 */
export class ExceptionMemory {
  private readonly seen = new Set<string>()

  /** True the first time this exception is seen in this trace. */
  firstTime(traceId: string | undefined, exception: SpanException): boolean {
    if (traceId === undefined) return true
    const key = `${traceId}\u0000${exception.name}\u0000${exception.message}\u0000${exception.stack.slice(0, MAX_KEY_STACK_LENGTH)}`
    if (this.seen.has(key)) return false
    if (this.seen.size >= MAX_REMEMBERED_EXCEPTIONS) {
      // Forget the oldest (a Set iterates in insertion order).
      const oldest = this.seen.values().next().value
      if (oldest !== undefined) this.seen.delete(oldest)
    }
    this.seen.add(key)
    return true
  }
}
