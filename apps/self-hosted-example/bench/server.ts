// The Notes server under load, in its own process (pinned to core 0 by the runner).
// argv[2]: `off` (DO_NOT_TRACK=1, the baseline), `counts` (product telemetry, users not
// identified) or `users` (product telemetry plus each user's events, hashed ids).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp, listen, NoteStore } from '../src/app.js'
import { defaultSettings } from '../src/settings.js'
import { TelemetryControl } from '../src/telemetry.js'

const variant = process.argv[2] ?? 'off'
if (variant === 'off') process.env.DO_NOT_TRACK = '1'
const dataDir = mkdtempSync(join(tmpdir(), 'self-hosted-bench-'))
const store = new NoteStore()
const control = new TelemetryControl({
  settings: {
    ...defaultSettings(process.env.TELEMETER_URL ?? '', 'BENCH_APP_KEY'),
    identifiers: variant === 'users' ? 'hashed' : 'none',
  },
  storage: { dataDir },
  appVersion: '2.4.0',
  trackCI: true,
  properties: () => ({ notes: store.notes.length }),
})
const app = await listen(createApp(control, store))
const started = process.cpuUsage()
process.send?.({ type: 'ready', url: app.url })
process.on('message', async (message: { type: string }) => {
  if (message.type !== 'stop') return
  const cpu = process.cpuUsage(started)
  await app.close()
  await control.telemeter.flush()
  const report = {
    handled: store.notes.length,
    cpuMs: (cpu.user + cpu.system) / 1000,
    stats: control.telemeter.stats(),
  }
  await control.shutdown()
  rmSync(dataDir, { recursive: true, force: true })
  process.send?.({ type: 'report', report }, () => process.exit(0))
})
