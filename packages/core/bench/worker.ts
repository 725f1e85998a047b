/**
 * One benchmark step in a fresh process (started by core.bench.ts with
 * `--expose-gc`, pinned to its own core): `worker.ts <step> <sdk> <json options>`.
 * Results go to the parent over IPC.
 */
import {
  benchEvent,
  cpuMicros,
  directoryBytes,
  EVENT_KEY,
  heapAfterGc,
  KILL_EVENTS_PER_TICK,
  KILL_TICK_MS,
  readIo,
  StallProbe,
  sleep,
} from './measure.js'
import {
  countlyHeldSeqs,
  createTelemeterFor,
  journalSeqs,
  loadCore,
  loadCountly,
  openCountly,
  openTelemeter,
  rawEventRequest,
  type SdkName,
  type Subject,
  storedEvents,
} from './subjects.js'

export interface StepOptions {
  readonly url: string
  readonly dir: string
  /** Events (record) or queued requests (drain). */
  readonly count: number
  /** Events recorded per macrotask. */
  readonly chunk: number
  /** Longest a step may take before it reports what it has. */
  readonly capMs: number
  /** Event key of a kill run. */
  readonly key: string
}

export interface RecordResult {
  recordMs: number
  windowMs: number
  persisted: boolean
  cpuMicros: number
  emptyLoopMicros: number
  /** CPU the stall probe itself used over the window (calibrated while idle). */
  probeMicros: number
  writeBytes: number
  wchar: number
  fileBytes: number
  stallMs: number
  stallOwnMs: number
  gcPauseMs: number
  heapBytes: number
  storedEvents: number
}

const [step, sdk, json] = process.argv.slice(2) as [string, SdkName, string]
const options = JSON.parse(json) as StepOptions
const send = (message: unknown): void => {
  process.send?.(message)
}

/** `count` events, `chunk` per macrotask, like a busy server between requests. */
function loop(count: number, chunk: number, record: (seq: number) => void): Promise<void> {
  return new Promise((resolve) => {
    let seq = 0
    const next = () => {
      const end = Math.min(count, seq + chunk)
      for (; seq < end; seq++) record(seq)
      if (seq < count) setImmediate(next)
      else resolve()
    }
    next()
  })
}

const open = (deviceId: string): Promise<Subject> =>
  sdk === 'telemeter'
    ? openTelemeter(options.url, options.dir, deviceId)
    : Promise.resolve(openCountly(options.url, options.dir, deviceId))

async function record(): Promise<RecordResult> {
  const { count, chunk } = options
  // What the loop itself costs (building the same event objects), to subtract.
  let sink: unknown
  await loop(count, chunk, (seq) => {
    sink = benchEvent(seq)
  })
  const emptyStart = cpuMicros()
  await loop(count, chunk, (seq) => {
    sink = benchEvent(seq)
  })
  const emptyLoopMicros = cpuMicros() - emptyStart
  void sink
  // What the stall probe itself costs per ms of measuring, to subtract too.
  const calibration = new StallProbe()
  const calibrationStart = cpuMicros()
  const calibrationAt = performance.now()
  calibration.start()
  await sleep(1_000)
  calibration.stop()
  const probeMicrosPerMs = (cpuMicros() - calibrationStart) / (performance.now() - calibrationAt)

  const subject = await open('bench-device')
  await sleep(300)
  const heap0 = heapAfterGc()
  const io0 = readIo()
  const probe = new StallProbe()
  probe.start()
  const start = Date.now()
  const cpu0 = cpuMicros()
  await loop(count, chunk, (seq) => subject.event(seq))
  const recordMs = Date.now() - start
  const persisted = await subject.persisted(start + options.capMs)
  const cpu = cpuMicros() - cpu0
  const windowMs = Date.now() - start
  const stall = probe.stop()
  const io1 = readIo()
  const heapBytes = heapAfterGc() - heap0
  return {
    recordMs,
    windowMs,
    persisted,
    cpuMicros: cpu,
    emptyLoopMicros,
    probeMicros: probeMicrosPerMs * windowMs,
    writeBytes: io1.writeBytes - io0.writeBytes,
    wchar: io1.wchar - io0.wchar,
    fileBytes: directoryBytes(options.dir),
    stallMs: stall.wallMs,
    stallOwnMs: stall.ownMs,
    gcPauseMs: stall.gcMs,
    heapBytes,
    storedEvents: await subject.storedEvents(),
  }
}

/** Queue one event for each of `count` devices while the server is down, and leave it on disk. */
async function prepareDrain(): Promise<{ queued: number }> {
  if (sdk === 'telemeter') {
    const telemeter = await createTelemeterFor({
      url: options.url,
      storagePath: options.dir,
      deviceId: 'bench-device',
      maxQueueSize: 20_000,
    })
    for (let seq = 0; seq < options.count; seq++) {
      telemeter.forDevice(`device-${seq}`).event(EVENT_KEY, benchEvent(seq))
    }
    // Everything is on disk once flush() resolves (the server is down: nothing is sent).
    await telemeter.flush()
    await telemeter.shutdown({ timeoutMs: 300 })
    return { queued: await storedEvents('telemeter', options.dir) }
  }
  // countly-sdk-nodejs rewrites its whole queue file per request (10,000 x
  // up to 3 MB); build the queue in memory through its own API, then write
  // the files once with its own storage writer, in its own format.
  const { Countly, storage } = loadCountly()
  const memory = new Map<string, unknown>()
  Countly.init({
    app_key: 'BENCH_APP_KEY',
    url: options.url,
    storage_path: `${options.dir}/`,
    device_id: 'bench-device',
    queue_size: 20_000,
    test_mode: true,
    custom_storage_method: {
      storeSet: (key: string, value: unknown, callback?: (error: null) => void) => {
        memory.set(key, value)
        callback?.(null)
      },
      storeGet: (key: string, fallback: unknown) => (memory.has(key) ? memory.get(key) : fallback),
      storeRemove: (key: string) => memory.delete(key),
    },
  })
  const sdkInfo = { name: 'javascript_native_nodejs', version: '24.10.4' }
  for (let seq = 0; seq < options.count; seq++) {
    Countly.request(rawEventRequest(`device-${seq}`, seq, sdkInfo))
  }
  for (const key of ['cly_id', 'cly_id_type', 'cly_queue']) {
    await new Promise((resolve) => storage.writeFile(key, memory.get(key), resolve))
  }
  return { queued: await storedEvents('countly', options.dir) }
}

/** Start on the prepared queue and deliver; the parent measures and says when to stop. */
async function drain(mode: string): Promise<void> {
  let cpu0 = 0
  const stopped = new Promise<void>((resolve) => {
    process.on('message', (message) => message === 'stop' && resolve())
    setTimeout(resolve, options.capMs).unref()
  }).then(() => send({ type: 'cpu', cpuMicros: cpuMicros() - cpu0 }))
  if (sdk === 'telemeter') {
    const core = await loadCore()
    cpu0 = cpuMicros()
    send({ type: 'start', at: Date.now() })
    const telemeter = core.createTelemeter({
      url: options.url,
      appKey: 'BENCH_APP_KEY',
      sessions: 'manual',
      storagePath: options.dir,
      deviceId: 'bench-device',
      maxQueueSize: 20_000,
    })
    await stopped
    send({ type: 'stats', stats: telemeter.stats() })
    await telemeter.shutdown({ timeoutMs: 500 })
    return
  }
  const { Countly } = loadCountly()
  if (mode === 'bulk') {
    // CountlyBulk, the module for servers reporting many devices: defaults
    // (in-memory queue, 50 requests per /i/bulk call, one call per 5 s interval).
    const bulk = new Countly.Bulk({ app_key: 'BENCH_APP_KEY', url: options.url })
    const sdkInfo = { name: 'javascript_native_nodejs_bulk', version: '24.10.4' }
    const requests = []
    for (let seq = 0; seq < options.count; seq++)
      requests.push(rawEventRequest(`device-${seq}`, seq, sdkInfo))
    bulk.add_bulk_request(requests)
    cpu0 = cpuMicros()
    send({ type: 'start', at: Date.now() })
    bulk.start()
  } else {
    cpu0 = cpuMicros()
    send({ type: 'start', at: Date.now() })
    Countly.init({
      app_key: 'BENCH_APP_KEY',
      url: options.url,
      storage_path: `${options.dir}/`,
      device_id: 'bench-device',
      queue_size: 20_000,
    })
  }
  await stopped
}

/** Record continuously until SIGKILLed, reporting what was recorded when. */
async function killRecord(): Promise<void> {
  const subject = await open('bench-kill')
  let seq = 0
  setInterval(() => {
    const from = seq
    for (let i = 0; i < KILL_EVENTS_PER_TICK; i++) subject.event(seq++, options.key)
    // Every event of this batch was recorded before `at`.
    send({ type: 'recorded', from, to: seq, at: Date.now() })
  }, KILL_TICK_MS)
  await new Promise(() => {})
}

/**
 * Restart on the killed process's storage and deliver what it kept, for at
 * most `capMs`; then report the events it still holds (sequence numbers).
 */
async function killDrain(): Promise<{ backlog: number; held: number[] }> {
  const subject = await open('bench-kill')
  const deadline = Date.now() + options.capMs
  if (subject.name === 'telemeter') {
    const { telemeter } = subject as Awaited<ReturnType<typeof openTelemeter>>
    while (Date.now() < deadline) {
      await telemeter.flush()
      if (subject.backlog() === 0) break
      await sleep(50)
    }
    const backlog = subject.backlog()
    await telemeter.shutdown({ timeoutMs: 1_000 })
    return { backlog, held: backlog > 0 ? journalSeqs(options.dir) : [] }
  }
  // countly-sdk-nodejs sends one queued request per 500 ms heartbeat; done once
  // its queues have stayed empty for three heartbeats (the last request is answered).
  let emptySince = 0
  while (Date.now() < deadline) {
    await sleep(100)
    if (subject.backlog() > 0) emptySince = 0
    else if (emptySince === 0) emptySince = Date.now()
    else if (Date.now() - emptySince > 1_500) break
  }
  return { backlog: subject.backlog(), held: countlyHeldSeqs() }
}

async function main(): Promise<void> {
  switch (step) {
    case 'record':
      send({ type: 'result', result: await record() })
      break
    case 'prepare-drain':
      send({ type: 'result', result: await prepareDrain() })
      break
    case 'drain':
    case 'drain-bulk':
      await drain(step === 'drain-bulk' ? 'bulk' : 'main')
      break
    case 'kill-record':
      await killRecord()
      break
    case 'kill-drain':
      send({ type: 'result', result: await killDrain() })
      break
    default:
      throw new Error(`unknown step ${step}`)
  }
  // The official SDK keeps timers running; end the step explicitly.
  setTimeout(() => process.exit(0), 50)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
