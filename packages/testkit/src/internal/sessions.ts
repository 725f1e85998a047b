import { createHash } from 'node:crypto'
import type { ReceivedEvent } from '../types.js'
import { NEGATIVE_SESSION_DURATION_REPLACEMENT_S, SESSION_DURATION_LIMIT_S } from './constants.js'
import { type ItemContext, makeEvent } from './context.js'
import { notifyProgress, type ServerState, storeEvent, type UserRecord } from './state.js'
import { timeFromMs } from './time.js'
import { describe, isCleanFlag, isTruthyParam } from './values.js'

/**
 * Sessions with ingestor semantics (PROTOCOL §2.4). Where the real server
 * leaves a session ended without `ignore_cooldown` to its aggregator, the
 * testkit writes the `[CLY]_session` event once the cooldown has passed
 * (timer), or when the next accepted `begin_session` arrives, whichever is first.
 */
export function processSession(ctx: ItemContext, requestHash: string): void {
  const { user } = ctx
  const doc = user.doc
  const duration = sessionDuration(ctx)
  const begin = flag(ctx, 'begin_session')
  const end = flag(ctx, 'end_session')
  const ignoreCooldown = flag(ctx, 'ignore_cooldown')
  const cooldownS = ctx.state.options.sessionCooldownS

  if (begin) {
    const lest = doc.lest
    if (!ignoreCooldown && lest !== undefined && ctx.time.s - lest < cooldownS) {
      // Begin within the cooldown: the previous session simply continues.
      doc.hos = true
      cancelPending(user)
      addDuration(ctx, duration)
      return
    }
    const previous = closingDuration(user)
    if (previous !== undefined) ctx.events.push(closeEvent(user, previous))
    const requestId = `${requestHash}_${doc.uid}_${ctx.time.ms}`
    const lsparams: Record<string, unknown> = { request_id: requestId }
    if (doc.lsid !== undefined) {
      lsparams.prev_session = doc.lsid
      lsparams.prev_start = doc.ls
    }
    lsparams.postfix = createHash('md5').update(doc.did).digest('base64')[0]
    lsparams.ended = 'false'
    user.lsparams = lsparams
    doc.lsid = requestId
    doc.lbst = ctx.time.s
    doc.sc += 1
    doc.hos = true
    doc.sd = duration
    doc.vc = 0
    doc.lv = undefined
    ctx.events.push(makeEvent(ctx, { key: '[CLY]_session_begin', dur: 0, segmentation: { ...lsparams } }))
    return
  }

  addDuration(ctx, duration)
  if (!end) return
  if (!ignoreCooldown) {
    doc.lest = ctx.time.s
    if (!doc.hos) return
    doc.hos = false
    if (cooldownS <= 0) ctx.events.push(closeEvent(user, doc.sd))
    else schedulePending(ctx.state, user, doc.sd, cooldownS)
    return
  }
  const closing = closingDuration(user)
  doc.hos = false
  if (closing !== undefined) ctx.events.push(closeEvent(user, closing))
}

/** Write the `[CLY]_session` event of a session still waiting for its cooldown (merges). */
export function finalisePending(state: ServerState, record: UserRecord): void {
  const pending = record.pendingClose
  if (!pending) return
  cancelPending(record)
  storeEvent(state, closeEvent(record, pending.dur))
}

function sessionDuration(ctx: ItemContext): number {
  const raw = ctx.params.session_duration
  if (raw === undefined || raw === '') return 0
  const seconds = Number.parseInt(String(raw), 10)
  if (Number.isNaN(seconds)) {
    ctx.violate('invalid-session-duration', `session_duration must be integer seconds, got ${describe(raw)}`)
    return 0
  }
  if (seconds > SESSION_DURATION_LIMIT_S) {
    ctx.violate(
      'invalid-session-duration',
      `session_duration ${seconds} is capped to ${SESSION_DURATION_LIMIT_S} s by the server`,
    )
    return SESSION_DURATION_LIMIT_S
  }
  if (seconds < 0) {
    ctx.violate(
      'invalid-session-duration',
      `negative session_duration ${seconds} is replaced by ${NEGATIVE_SESSION_DURATION_REPLACEMENT_S} s`,
    )
    return NEGATIVE_SESSION_DURATION_REPLACEMENT_S
  }
  if (String(seconds) !== String(raw).trim()) {
    ctx.violate('invalid-session-duration', `session_duration ${describe(raw)} is truncated to ${seconds} s`)
  }
  return seconds
}

function flag(ctx: ItemContext, name: 'begin_session' | 'end_session' | 'ignore_cooldown'): boolean {
  const value = ctx.params[name]
  const on = isTruthyParam(value)
  if (on && !isCleanFlag(value)) {
    ctx.violate('invalid-flag', `${name}=${describe(value)} is truthy, so the server treats it as ${name}=1`)
  }
  return on
}

function addDuration(ctx: ItemContext, seconds: number): void {
  ctx.user.doc.sd += seconds
  ctx.user.doc.tsd += seconds
}

/** Duration of the session to close before a new one begins, if one is open or pending. */
function closingDuration(record: UserRecord): number | undefined {
  if (record.pendingClose) {
    const { dur } = record.pendingClose
    cancelPending(record)
    return dur
  }
  return record.doc.hos ? record.doc.sd : undefined
}

function cancelPending(record: UserRecord): void {
  if (record.pendingClose?.timer) clearTimeout(record.pendingClose.timer)
  record.pendingClose = undefined
}

function schedulePending(state: ServerState, record: UserRecord, dur: number, cooldownS: number): void {
  cancelPending(record)
  const timer = setTimeout(() => {
    if (record.pendingClose?.timer !== timer) return
    record.pendingClose = undefined
    storeEvent(state, closeEvent(record, dur))
    notifyProgress(state)
  }, cooldownS * 1000)
  timer.unref()
  record.pendingClose = { dur, timer }
}

function closeEvent(record: UserRecord, dur: number): ReceivedEvent {
  const doc = record.doc
  const time = timeFromMs(doc.ls * 1000)
  return {
    device_id: doc.did,
    app_key: doc.app_key,
    key: '[CLY]_session',
    name: undefined,
    count: 1,
    sum: undefined,
    dur,
    segmentation: { ...(record.lsparams ?? {}), ended: 'true' },
    timestamp: time.ms,
    hour: time.hour,
    dow: time.dow,
  }
}
