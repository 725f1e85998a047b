// CPU per call of the product telemetry API, in one process (pinned to core 0 by the runner):
// `instance.count()` and `instance.section()` against `telemeter.event()` (the core's recording
// path, the baseline) and against the same calls with telemetry off (`disabled: true`).
import { createTelemeter, type Logger } from '@telemeter/core'

const CALLS = Number(process.env.CALLS ?? 200_000)
const REPEATS = 7
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} }
const base = {
  url: 'http://127.0.0.1:9',
  appKey: 'BENCH',
  storage: 'memory' as const,
  sessions: 'manual' as const,
  serverConfig: false,
  debug: quiet,
}

const on = createTelemeter(base)
const off = createTelemeter({ ...base, disabled: true })
const instanceOn = on.instance({ trackCI: true })
const instanceOff = off.instance({ trackCI: true })
await on.flush()

const keys = ['note.created', 'note.exported', 'report.created', 'settings.saved']
const subjects: Record<string, (i: number) => void> = {
  'telemeter.event': (i) => on.event(keys[i & 3]!),
  'instance.count': (i) => instanceOn.count(keys[i & 3]!),
  'instance.section': (i) => instanceOn.section(keys[i & 3]!),
  'instance.count (off)': (i) => instanceOff.count(keys[i & 3]!),
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN
const results: Record<string, number> = {}
for (const [name, call] of Object.entries(subjects)) {
  const samples: number[] = []
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    const start = process.cpuUsage()
    for (let i = 0; i < CALLS; i++) call(i)
    const used = process.cpuUsage(start)
    samples.push(((used.user + used.system) * 1000) / CALLS)
    await new Promise((resolve) => setTimeout(resolve, 50)) // let batching and timers run between samples
  }
  results[name] = median(samples)
}
await on.shutdown({ timeoutMs: 0 })
await off.shutdown({ timeoutMs: 0 })
process.send?.({ type: 'calls', calls: CALLS, results })
