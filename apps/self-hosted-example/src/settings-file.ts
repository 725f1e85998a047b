import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CATEGORIES, defaultSettings, type IdentifierChoice, type TelemetrySettings } from './settings.js'

/** Where `pnpm start` sends when nothing else is configured: the Countly stand-in it starts itself. */
export const LOCAL_TESTKIT_PORT = 3030
export const LOCAL_TESTKIT_URL = `http://127.0.0.1:${LOCAL_TESTKIT_PORT}`
export const LOCAL_APP_KEY = 'SELF_HOSTED_EXAMPLE'

/** The app's data directory (`DATA_DIR`, default `.data` in the working directory). */
export function dataDirOf(env: NodeJS.ProcessEnv = process.env): string {
  return env.DATA_DIR || '.data'
}

/**
 * The settings in force at start: `TELEMETER_URL` / `TELEMETER_APP_KEY` from
 * the environment, else what the admin page saved, else the local stand-in.
 */
export function loadSettings(dataDir: string, env: NodeJS.ProcessEnv = process.env): TelemetrySettings {
  let saved: Partial<TelemetrySettings> = {}
  try {
    saved = JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8')) as Partial<TelemetrySettings>
  } catch {
    // first start: defaults
  }
  const defaults = defaultSettings(LOCAL_TESTKIT_URL, LOCAL_APP_KEY)
  const identifiers: IdentifierChoice[] = ['none', 'hashed', 'plain']
  const tracking = { ...defaults.tracking }
  for (const category of CATEGORIES)
    if (typeof saved.tracking?.[category] === 'boolean') tracking[category] = saved.tracking[category]
  return {
    url: env.TELEMETER_URL || (typeof saved.url === 'string' ? saved.url : defaults.url),
    appKey: env.TELEMETER_APP_KEY || (typeof saved.appKey === 'string' ? saved.appKey : defaults.appKey),
    identifiers: identifiers.includes(saved.identifiers as IdentifierChoice)
      ? (saved.identifiers as IdentifierChoice)
      : defaults.identifiers,
    tracking,
  }
}

export function saveSettings(dataDir: string, settings: TelemetrySettings): void {
  mkdirSync(dataDir, { recursive: true })
  const path = join(dataDir, 'settings.json')
  writeFileSync(`${path}.tmp`, JSON.stringify(settings, null, 2))
  renameSync(`${path}.tmp`, path)
}
