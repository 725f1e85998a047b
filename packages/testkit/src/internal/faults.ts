import type { ServerResponse } from 'node:http'
import type { Fault, FaultRequestInfo, ReceivedHttpRequest } from '../types.js'
import { NEVER_ENDING_CHUNK_BYTES, NEVER_ENDING_INTERVAL_MS } from './constants.js'
import { JSON_CONTENT_TYPE, message, recordResponse, sendAnswer, sendText, serialise } from './respond.js'

/** The fault currently set and how many more requests it applies to. */
export interface FaultSlot {
  fault: Fault | null
  remaining: number | undefined
}

export function setFaultSlot(slot: FaultSlot, fault: Fault | null): void {
  slot.fault = fault
  slot.remaining = fault?.times
}

/** The fault that applies to this request, consuming one of its `times`. */
export function takeFault(slot: FaultSlot, info: FaultRequestInfo): Fault | undefined {
  const fault = slot.fault
  if (!fault || fault.type === 'down') return undefined
  if (slot.remaining !== undefined && slot.remaining <= 0) {
    setFaultSlot(slot, null)
    return undefined
  }
  if (fault.match) {
    let matches = false
    try {
      matches = fault.match(info)
    } catch {
      matches = false
    }
    if (!matches) return undefined
  }
  if (slot.remaining !== undefined) {
    slot.remaining -= 1
    if (slot.remaining <= 0) setFaultSlot(slot, null)
  }
  return fault
}

/** Faults that answer instead of the server. Returns false when the fault lets processing happen. */
export function answerWithoutProcessing(
  fault: Fault,
  res: ServerResponse,
  record: ReceivedHttpRequest,
  keepWriting: (stop: () => void) => void,
): boolean {
  switch (fault.type) {
    case 'status':
      sendText(res, record, fault.status, fault.body ?? serialise({ result: 'Server error' }), {
        'Content-Type': JSON_CONTENT_TYPE,
      })
      return true
    case 'rate-limit':
      sendAnswer(res, record, message(429, 'Too Many Requests'), { 'Retry-After': String(fault.retryAfterS) })
      return true
    case 'reject':
      sendAnswer(res, record, message(400, fault.message))
      return true
    case 'non-json':
      sendText(res, record, 200, '<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>', {
        'Content-Type': 'text/html; charset=utf-8',
      })
      return true
    case 'never-ending':
      writeForever(res, record, keepWriting)
      return true
    case 'reset':
    case 'hang':
      // Handled by the caller, which owns the socket.
      return true
    default:
      return false
  }
}

function writeForever(
  res: ServerResponse,
  record: ReceivedHttpRequest,
  keepWriting: (stop: () => void) => void,
): void {
  record.status = 200
  record.responseBody = ''
  res.writeHead(200, { 'Content-Type': JSON_CONTENT_TYPE, 'Access-Control-Allow-Origin': '*' })
  const chunk = `${' '.repeat(NEVER_ENDING_CHUNK_BYTES - 1)}\n`
  let waitingForDrain = false
  const timer = setInterval(() => {
    if (res.destroyed) return stop()
    if (waitingForDrain) return
    if (!res.write(chunk)) {
      waitingForDrain = true
      res.once('drain', () => {
        waitingForDrain = false
      })
    }
  }, NEVER_ENDING_INTERVAL_MS)
  const stop = () => {
    clearInterval(timer)
    if (!res.destroyed) res.destroy()
  }
  res.on('close', () => clearInterval(timer))
  keepWriting(stop)
}

/** 200 with a valid `{"result":"Success",…}` body padded to `bytes`, streamed. */
export function sendOversized(res: ServerResponse, record: ReceivedHttpRequest, bytes: number): void {
  const head = '{"result":"Success","padding":"'
  const tail = '"}'
  const padding = Math.max(0, bytes - head.length - tail.length)
  const total = head.length + padding + tail.length
  recordResponse(record, 200, head + 'x'.repeat(Math.min(padding, 1024)))
  if (res.destroyed) return
  res.writeHead(200, {
    'Content-Type': JSON_CONTENT_TYPE,
    'Access-Control-Allow-Origin': '*',
    'Content-Length': String(total),
  })
  res.write(head)
  const block = 'x'.repeat(64 * 1024)
  let left = padding
  const pump = () => {
    while (left > 0 && !res.destroyed) {
      const size = Math.min(left, block.length)
      left -= size
      if (!res.write(size === block.length ? block : block.slice(0, size))) {
        res.once('drain', pump)
        return
      }
    }
    if (!res.destroyed) res.end(tail)
  }
  pump()
}
