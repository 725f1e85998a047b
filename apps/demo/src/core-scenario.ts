import { createTelemeter } from '@telemeter/core'
import type { ScenarioOptions } from '@telemeter/testkit'

/**
 * What a backend does with @telemeter/core directly: its own session, events,
 * a timed event, a custom trace, a handled error with breadcrumbs, per-user
 * scopes with profiles, consent-free remote config, and a clean shutdown.
 */
export async function runScenario({ url, appKey, log }: ScenarioOptions): Promise<void> {
  const telemeter = createTelemeter({
    url,
    appKey,
    storage: 'memory',
    deviceId: 'demo-backend',
    appVersion: '1.4.2',
    flushIntervalMs: 100,
  })
  telemeter.on('dropped', (info) => log(`dropped ${info.requests} request(s): ${info.reason}`))

  telemeter.event('report.created', { segmentation: { format: 'pdf', pages: 12 } })
  telemeter.event('purchase', { sum: 49.9, segmentation: { plan: 'pro' } })
  log('recorded 2 custom events for the backend itself')

  telemeter.startEvent('nightly-sync')
  const trace = telemeter.startTrace('import_csv')
  await new Promise((resolve) => setTimeout(resolve, 50))
  trace.end({ rows: 1200 })
  telemeter.endEvent('nightly-sync', { segmentation: { source: 's3' } })
  log('recorded a timed event and a custom APM trace')

  telemeter.addBreadcrumb('connecting to billing provider')
  telemeter.addBreadcrumb('retrying with backoff')
  telemeter.captureError(new Error('billing provider timed out'), { segmentation: { provider: 'acme-pay' } })
  log('reported a handled error with 2 breadcrumbs')

  for (const user of ['ada', 'grace', 'linus']) {
    const scope = telemeter.forDevice(`user-${user}`)
    scope.beginSession()
    scope.view('dashboard')
    scope.event('login')
    scope.setUserDetails({ name: user[0]!.toUpperCase() + user.slice(1), custom: { plan: 'pro' } })
    scope.userData.increment('logins')
    scope.userData.save()
    scope.view('settings/users')
    scope.endSession()
  }
  log('3 users: session, 2 views, login event, profile, custom property each')

  telemeter.forDevice('user-ada').recordRating({ rating: 5, comment: 'Exports are fast', widgetId: 'nps-1' })
  const config = await telemeter.fetchRemoteConfig()
  log(`fetched remote config: ${JSON.stringify(config)}`)

  await telemeter.shutdown()
  const stats = telemeter.stats()
  log(`shut down: ${stats.sent} request(s) delivered, ${stats.dropped} dropped, ${stats.queued} left`)
}
