import { toApmKey } from '@telemeter/core'

/** What the module reads of Nest's `ExecutionContext`. */
export interface ContextLike {
  getType(): string
  getClass(): unknown
  getHandler(): unknown
  getArgByIndex(index: number): unknown
}

/** `@MessagePattern()` / `@EventPattern()` metadata (`@nestjs/microservices`, read without loading it). */
const PATTERN_METADATA = 'microservices:pattern'
/** `@SubscribeMessage()` metadata (`@nestjs/websockets`). */
const MESSAGE_METADATA = 'message'

const PREFIXES: Readonly<Record<string, string>> = { rpc: 'rpc', ws: 'ws', graphql: 'gql' }

const keys = new WeakMap<object, string | null>()

type MetadataReader = (key: string, target: object) => unknown

function metadata(key: string, target: object): unknown {
  const read = (Reflect as unknown as { getMetadata?: MetadataReader }).getMetadata
  return typeof read === 'function' ? read(key, target) : undefined
}

function patternName(pattern: unknown): string | undefined {
  const first = Array.isArray(pattern) ? pattern[0] : pattern
  if (typeof first === 'string') return first
  if (typeof first === 'object' && first !== null) return JSON.stringify(first)
  return undefined
}

function nameOf(value: unknown): string {
  const name = (value as { name?: unknown } | undefined)?.name
  return typeof name === 'string' ? name : ''
}

function derive(type: string, context: ContextLike, handler: object): string | undefined {
  const prefix = PREFIXES[type] ?? type
  if (type === 'graphql') {
    const info = context.getArgByIndex(3) as
      | { parentType?: { name?: unknown }; fieldName?: unknown }
      | undefined
    const parent = nameOf(info?.parentType)
    const field = typeof info?.fieldName === 'string' ? info.fieldName : ''
    if (parent && field) return toApmKey(`${prefix}_${parent}_${field}`)
  }
  const pattern =
    type === 'rpc'
      ? patternName(metadata(PATTERN_METADATA, handler))
      : type === 'ws'
        ? patternName(metadata(MESSAGE_METADATA, handler))
        : undefined
  if (pattern) return toApmKey(`${prefix}_${pattern}`)
  return toApmKey(`${prefix}_${nameOf(context.getClass())}_${nameOf(handler)}`)
}

/**
 * Custom trace key of a non-HTTP handler call: its message pattern, its
 * GraphQL field, else `Class_method`, prefixed by the context type and made
 * a valid trace key (`rpc_user_created`, `ws_chat_message`, `gql_Query_users`).
 */
export function traceKeyOf(type: string, context: ContextLike): string | undefined {
  const handler = context.getHandler()
  if (typeof handler !== 'function') return undefined
  const cached = keys.get(handler)
  if (cached !== undefined) return cached ?? undefined
  const key = derive(type, context, handler)
  keys.set(handler, key ?? null)
  return key
}
