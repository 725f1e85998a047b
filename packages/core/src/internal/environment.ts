import { readFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join } from 'node:path'

export const FALLBACK_APP_VERSION = '0.0.0'

/** `_os` as the Countly SDK guide names platforms, not as `os.type()` does. */
export function osName(platform: NodeJS.Platform = process.platform): string {
  switch (platform) {
    case 'linux':
      return 'Linux'
    case 'darwin':
      return 'macOS'
    case 'win32':
      return 'Windows'
    case 'freebsd':
      return 'FreeBSD'
    case 'openbsd':
      return 'OpenBSD'
    case 'sunos':
      return 'SunOS'
    case 'aix':
      return 'AIX'
    default:
      return String(platform)
  }
}

/** The OS version a person would recognise: macOS 14.1 rather than Darwin 23.1. */
export function osVersion(
  platform: NodeJS.Platform = process.platform,
  release: string = os.release(),
): string {
  if (platform === 'darwin') {
    const [major = 0, minor = 0] = release.split('.').map(Number)
    if (major >= 20) return `${major - 9}.${minor}`
    if (major >= 5) return `10.${major - 4}`
  }
  return release
}

let cachedLocale: string | undefined

/** The process's locale; read once (building an Intl formatter is expensive, and the locale does not change). */
export function locale(): string {
  if (cachedLocale === undefined) {
    try {
      cachedLocale = Intl.DateTimeFormat().resolvedOptions().locale
    } catch {
      cachedLocale = 'en-US'
    }
  }
  return cachedLocale
}

let platformMetrics: { readonly os: string; readonly version: string } | undefined

/**
 * Version of the application hosting Telemeter: the nearest package.json
 * above the working directory that has one. Read once, when the Telemeter is
 * created (a few small synchronous reads, never on a recording path), so even
 * a crash captured in the first millisecond carries the right `_app_version`.
 */
export function hostAppVersion(start: string = process.cwd()): string | undefined {
  let dir = start
  for (let depth = 0; depth < 8; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown }
      if (typeof pkg.version === 'string' && pkg.version) return pkg.version
    } catch {
      // no readable package.json here: keep walking up
    }
    const parent = dirname(dir)
    if (parent === dir) break
    dir = parent
  }
  return undefined
}

/** Metrics sent with `begin_session` and remote-config requests (PROTOCOL §2.5). */
export function sessionMetrics(appVersion: string): Record<string, string> {
  platformMetrics ??= { os: osName(), version: osVersion() }
  return {
    _os: platformMetrics.os,
    _os_version: platformMetrics.version,
    _app_version: appVersion,
    _locale: locale(),
  }
}
