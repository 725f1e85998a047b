import type { ReceivedCrash, ReceivedEvent, ReceivedTrace, ViolationCode } from '../types.js'
import { recordViolation, type ServerState, type UserRecord } from './state.js'
import type { RequestTime } from './time.js'
import type { JsonObject } from './values.js'

/** Everything the feature modules need while one `/i` request (or bulk item) is processed. */
export interface ItemContext {
  readonly state: ServerState
  readonly endpoint: string
  readonly appKey: string
  readonly deviceId: string
  readonly params: JsonObject
  readonly time: RequestTime
  user: UserRecord
  /** Events this request produces, in the order they will be stored. */
  readonly events: ReceivedEvent[]
  readonly crashes: ReceivedCrash[]
  readonly traces: ReceivedTrace[]
  violate(code: ViolationCode, message: string): void
}

export function createItemContext(
  state: ServerState,
  init: {
    endpoint: string
    appKey: string
    deviceId: string
    params: JsonObject
    time: RequestTime
    user: UserRecord
    /** Where violations go; by default straight into the server's list. */
    violate?: (code: ViolationCode, message: string) => void
  },
): ItemContext {
  const { violate, ...rest } = init
  return {
    ...rest,
    state,
    events: [],
    crashes: [],
    traces: [],
    violate:
      violate ?? ((code, message) => recordViolation(state, code, message, init.endpoint, init.deviceId)),
  }
}

/** Build an event in the stored shape. */
export function makeEvent(ctx: ItemContext, fields: Partial<ReceivedEvent> & { key: string }): ReceivedEvent {
  return {
    device_id: ctx.deviceId,
    app_key: ctx.appKey,
    name: undefined,
    count: 1,
    sum: undefined,
    dur: undefined,
    segmentation: {},
    timestamp: ctx.time.ms,
    hour: ctx.time.hour,
    dow: ctx.time.dow,
    ...fields,
  }
}
