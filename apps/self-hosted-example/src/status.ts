// `pnpm --filter @telemeter/self-hosted-example status`: is telemetry on, and why?
// Asks the running server (SELF_HOSTED_URL, default http://127.0.0.1:$PORT or :3000). When it
// is not running, it reads the decision from the app's storage in print mode, which opens no
// socket: checking the status never sends anything.
import { createTelemeter, type InstanceStatus } from '@telemeter/core'
import { formatStatus } from './format-status.js'
import { publicSettings } from './settings.js'
import { dataDirOf, loadSettings } from './settings-file.js'
import { type TelemetryReport, telemeterConfig } from './telemetry.js'

async function live(serverUrl: string): Promise<TelemetryReport | undefined> {
  try {
    const response = await fetch(`${serverUrl}/admin/telemetry`, { signal: AbortSignal.timeout(1_500) })
    return response.ok ? ((await response.json()) as TelemetryReport) : undefined
  } catch {
    return undefined
  }
}

async function offline(env: NodeJS.ProcessEnv): Promise<TelemetryReport> {
  const dataDir = dataDirOf(env)
  const settings = loadSettings(dataDir, env)
  const printing = process.env.TELEMETER_DEBUG
  // Print mode opens no socket and fetches nothing; the stored operator choice is still read.
  // It is read once, at creation: the variable is restored at once.
  process.env.TELEMETER_DEBUG = '1'
  let telemeter: ReturnType<typeof createTelemeter>
  try {
    telemeter = createTelemeter(telemeterConfig(settings, { storage: { dataDir } }))
  } finally {
    if (printing === undefined) delete process.env.TELEMETER_DEBUG
    else process.env.TELEMETER_DEBUG = printing
  }
  await telemeter.flush()
  const debug = env.TELEMETER_DEBUG?.trim().toLowerCase()
  const status = { ...telemeter.status(), printOnly: debug === '1' || debug === 'true' }
  await telemeter.shutdown({ timeoutMs: 500 })
  const instance: InstanceStatus = {
    enabled: status.enabled,
    decidedBy: status.decidedBy,
    reason: status.reason,
    instanceId: undefined,
    uptimeSeconds: 0,
    heartbeatIntervalMs: 6 * 3_600_000,
    countingDay: new Date().toISOString().slice(0, 10),
  }
  return { settings: publicSettings(settings), status, instance }
}

/** The report and where it came from. */
export async function statusReport(env: NodeJS.ProcessEnv = process.env): Promise<[TelemetryReport, string]> {
  const serverUrl = env.SELF_HOSTED_URL || `http://127.0.0.1:${env.PORT || 3000}`
  const report = await live(serverUrl)
  if (report) return [report, `live from ${serverUrl}`]
  return [await offline(env), `${serverUrl} is not running: read from storage, instance details unavailable`]
}

if (process.argv[1]?.endsWith('status.ts')) {
  const [report, source] = await statusReport()
  process.stdout.write(`${formatStatus(report, source)}\n`)
}
