// Summarise a V8 CPU profile (from BENCH_PROFILE=<variant>): self time by
// function and by package, to see what a variant spends its CPU on.
//   node bench/profile-summary.mjs bench/profiles/<file>.cpuprofile [requests handled]
import { readFileSync } from 'node:fs'

const profile = JSON.parse(readFileSync(process.argv[2], 'utf8'))

/** Time spent idle (waiting for I/O): not CPU. */
function byFunctionIdle(_profile, selfTimes, nodes) {
  let idle = 0
  for (const [id, time] of selfTimes) if (nodes.get(id).callFrame.functionName === '(idle)') idle += time
  return idle
}
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const self = new Map()
const deltas = profile.timeDeltas
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]
  self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0))
}
const total = [...self.values()].reduce((a, b) => a + b, 0)
const byFunction = new Map()
const byArea = new Map()
const area = (url) => {
  if (!url) return '(native/gc/idle)'
  if (url.includes('/packages/core/')) return '@telemeter/core'
  if (url.includes('/packages/express/dist')) return '@telemeter/express'
  const match = url.match(/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/)
  if (match) return match[1]
  if (url.startsWith('node:')) return 'node internals'
  return url
}
for (const [id, time] of self) {
  const { callFrame } = byId.get(id)
  const key = `${callFrame.functionName || '(anonymous)'} ${callFrame.url.split('/').slice(-2).join('/')}:${callFrame.lineNumber + 1}`
  byFunction.set(key, (byFunction.get(key) ?? 0) + time)
  const a = area(callFrame.url)
  byArea.set(a, (byArea.get(a) ?? 0) + time)
}
const busy = total - (byFunctionIdle(profile, self, byId) ?? 0)
const perRequest = Number(process.argv[3]) || 0
const pct = (time) =>
  `${((time / total) * 100).toFixed(1).padStart(5)} %${perRequest ? ` ${(time / perRequest).toFixed(1).padStart(6)} µs/req` : ''}`
console.log(
  `busy ${(busy / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms sampled${perRequest ? `, ${(busy / perRequest).toFixed(1)} µs per request` : ''}`,
)
console.log('self time by area')
for (const [name, time] of [...byArea].sort((a, b) => b[1] - a[1]).slice(0, 15))
  console.log(`  ${pct(time)}  ${name}`)
console.log('\nself time by function (top 30)')
for (const [name, time] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 30))
  console.log(`  ${pct(time)}  ${name}`)
