import type { Feature, Limits } from '../types.js'
import type { TelemeterCore } from './client.js'
import { singleRequest } from './request.js'
import { SDK_NAME, SDK_VERSION } from './version.js'

export const SERVER_CONFIG_KEY = 'serverConfig'
const HOUR_MS = 3_600_000
/** The server's own minimum refresh interval for `scui` (hours). */
const MIN_REFRESH_HOURS = 4

/** Per-feature switches of the server settings, by key. */
const FEATURE_SWITCHES: Readonly<Record<string, Feature>> = {
  st: 'sessions',
  crt: 'crashes',
  vt: 'views',
  cet: 'events',
  lt: 'location',
}

/** Limits of the server settings, by key. */
const LIMIT_KEYS: Readonly<Record<string, keyof Limits>> = {
  lkl: 'keyLength',
  lvs: 'valueSize',
  lsv: 'segmentationValues',
  lbc: 'breadcrumbCount',
  ltlpt: 'stackTraceLines',
  ltl: 'stackTraceLineLength',
}

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : undefined
}

/**
 * Apply the server-side SDK settings (PROTOCOL §4.1). Precedence, documented
 * in the README: kill switches and the operator policy always win (a server
 * can switch features off, never on against the operator); the server's
 * `tracking`/`networking` master switches and per-feature switches add to
 * them; consent can be made required by the server, never waived; sizes,
 * intervals and limits from the server replace the configured values.
 */
export function applyServerConfig(core: TelemeterCore, config: Record<string, unknown>): void {
  const { gate, settings } = core
  gate.serverTracking = config.tracking !== false
  const networkingWasOff = !gate.serverNetworking
  gate.serverNetworking = config.networking !== false
  for (const [key, feature] of Object.entries(FEATURE_SWITCHES)) {
    gate.setServerFeature(feature, typeof config[key] === 'boolean' ? config[key] : undefined)
  }
  if (config.cr === true) gate.requireConsent = true
  for (const [key, limit] of Object.entries(LIMIT_KEYS)) {
    const value = positive(config[key])
    settings.limits[limit] = value ?? core.config.limits[limit]
  }
  settings.maxEventsPerRequest = positive(config.eqs) ?? core.config.maxEventsPerRequest
  const updateSeconds = positive(config.sui)
  settings.sessionUpdateIntervalMs = updateSeconds
    ? updateSeconds * 1000
    : core.config.sessionUpdateIntervalMs
  core.queue.setMaxSize(positive(config.rqs) ?? core.config.maxQueueSize)
  const dropOlderHours = positive(config.dort)
  settings.dropOlderThanMs = dropOlderHours ? dropOlderHours * HOUR_MS : undefined
  settings.serverConfigRefreshMs =
    Math.max(MIN_REFRESH_HOURS, positive(config.scui) ?? MIN_REFRESH_HOURS) * HOUR_MS
  if (networkingWasOff && gate.serverNetworking) core.resumeSending()
}

/** Settings saved by an earlier run apply at once, before the first fetch answers. */
export function restoreServerConfig(core: TelemeterCore): void {
  const saved = core.values[SERVER_CONFIG_KEY]
  if (!saved) return
  try {
    const parsed = JSON.parse(saved) as unknown
    if (parsed && typeof parsed === 'object') applyServerConfig(core, parsed as Record<string, unknown>)
  } catch {
    core.logger.warn('stored server configuration was unreadable and is ignored')
  }
}

/** `GET /o/sdk?method=sc`; on success the settings apply and are kept for the next start. Never rejects. */
export async function fetchServerConfig(core: TelemeterCore): Promise<void> {
  const transport = core.http
  if (!transport || core.closed || core.gate.killSwitch) return
  const timestamp = core.clock.uniqueTimestamp()
  const params = {
    method: 'sc',
    app_key: core.config.appKey,
    device_id: core.wireOf(core.self),
    t: core.self.idType,
    timestamp,
    hour: core.clock.hourOf(timestamp),
    dow: core.clock.dowOf(timestamp),
    sdk_name: SDK_NAME,
    sdk_version: SDK_VERSION,
    av: core.appVersion,
  }
  try {
    const response = await transport.send(
      singleRequest('/o/sdk', params, {
        appKey: core.config.appKey,
        salt: core.config.salt,
        forcePost: core.config.forcePost,
      }),
    )
    if (response.status < 200 || response.status >= 300 || response.truncated)
      throw new Error(`HTTP ${response.status}`)
    const body = JSON.parse(response.body) as { c?: unknown }
    if (!body || typeof body.c !== 'object' || body.c === null || Array.isArray(body.c)) {
      throw new Error('answer without a settings object')
    }
    const config = body.c as Record<string, unknown>
    applyServerConfig(core, config)
    core.setValue(SERVER_CONFIG_KEY, JSON.stringify(config))
    core.logger.debug(`server-side SDK settings applied: ${JSON.stringify(config)}`)
  } catch (error) {
    core.logger.debug(
      `server-side SDK settings not fetched (${(error as Error).message}); keeping the current ones`,
    )
  }
}

/** Fetch at start, then every `scui` hours (4 by default). The saved settings were restored when storage opened. */
export function startServerConfig(core: TelemeterCore): void {
  void fetchServerConfig(core)
  let last = Date.now()
  core.addTimer(() => {
    if (Date.now() - last < core.settings.serverConfigRefreshMs) return
    last = Date.now()
    void fetchServerConfig(core)
  }, 60_000)
}
