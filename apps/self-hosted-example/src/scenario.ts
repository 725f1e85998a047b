import type { ScenarioOptions } from '@telemeter/testkit'
import { createApp, listen, NoteStore } from './app.js'
import { defaultSettings } from './settings.js'
import { TelemetryControl, type TelemetryReport } from './telemetry.js'

/**
 * A self-hosted "Notes" server reporting its own product telemetry: start
 * event and server properties, feature use and visited sections counted per
 * day, a server error, then an operator flipping the settings page: crashes
 * off and on, user identifiers from hashed to plain (a new Telemeter), the
 * global switch off (nothing leaves) and on again, and a clean shutdown that
 * sends the stop event and the day's counts (memory storage keeps nothing).
 */
export async function runScenario({ url, appKey, log }: ScenarioOptions): Promise<void> {
  const store = new NoteStore()
  const control = new TelemetryControl({
    settings: defaultSettings(url, appKey),
    storage: 'memory',
    appVersion: '2.4.0',
    // A demo: show product telemetry even when run in CI (real apps leave CI off).
    trackCI: true,
    properties: () => ({
      notes: store.notes.length,
      authors: new Set(store.notes.map((n) => n.author)).size,
    }),
    config: { flushIntervalMs: 100 },
  })
  const app = await listen(createApp(control, store))
  const call = async (method: string, path: string, body?: unknown, headers?: Record<string, string>) => {
    const response = await fetch(`${app.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    return { status: response.status, body: (await response.json()) as unknown }
  }
  const settings = async (patch: unknown) =>
    (await call('POST', '/admin/telemetry', patch)).body as TelemetryReport
  try {
    await control.telemeter.flush()
    const first = (await call('GET', '/admin/telemetry')).body as TelemetryReport
    log(
      `Notes server on ${app.url}; telemetry ${first.status.enabled ? 'on' : 'off'} (${first.status.decidedBy}), ` +
        `instance ${first.instance.instanceId}: start event and server properties sent`,
    )

    for (const [user, text] of [
      ['ada', 'buy milk'],
      ['grace', 'ship 2.4'],
      ['ada', 'call Linus'],
    ] as const)
      await call('POST', '/api/notes', { text }, { 'x-user': user, 'x-user-email': `${user}@example.com` })
    await call('GET', '/api/notes')
    await call('GET', '/api/notes')
    await call('GET', '/admin/users')
    await call('GET', '/api/notes/export')
    log('3 notes created, notes listed twice, users page, an export: counted for the day, users hashed')

    const broken = await call('GET', '/api/reports/broken')
    // Delivered before the operator switches crashes off (which purges unsent crash reports).
    await control.telemeter.flush()
    log(`GET /api/reports/broken answered ${broken.status}: reported as a server error`)

    await settings({ tracking: { crashes: false } })
    await call('GET', '/api/reports/broken')
    await settings({ tracking: { crashes: true } })
    log('admin switched crashes off: the same error was not reported; switched back on')

    await settings({ identifiers: 'plain' })
    await call('POST', '/api/notes', { text: 'plain ids now' }, { 'x-user': 'ada' })
    await control.telemeter.flush()
    const plain = (await call('GET', '/admin/telemetry')).body as TelemetryReport
    log(
      `admin chose plain user ids: a new Telemeter (the old one sent its stop event and the day's counts ` +
        `as it shut down); instance ${plain.instance.instanceId}`,
    )

    const off = await settings({ enabled: false })
    await call('POST', '/api/notes', { text: 'nobody hears this' }, { 'x-user': 'grace' })
    await call('GET', '/api/reports/broken')
    log(`admin switched telemetry off (${off.status.reason}): nothing recorded, queued or sent`)
    const on = await settings({ enabled: true })
    log(`admin switched it on again: ${on.status.enabled ? 'on' : 'off'} (${on.status.decidedBy})`)
    await call('GET', '/api/notes')
  } finally {
    await app.close()
    await control.shutdown()
  }
  const stats = control.telemeter.stats()
  log(
    `shut down: stop event and today's counts sent; ${stats.sent} request(s) delivered, ${stats.queued} left`,
  )
}
