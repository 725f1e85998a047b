import { createTelemeter } from '@telemeter/core'
import type { ScenarioOptions } from '@telemeter/testkit'
import { startExample } from './app.js'

/**
 * A NestJS 11 task tracker with TelemeterModule: a network trace per request
 * named after its route template (global prefix and URI version included),
 * users mapped to devices by the authentication guard, a guard rejection and
 * a failed validation as traces only, a failing handler as one crash while
 * the application's own problem+json filter still answers, a `@Traced()`
 * report, a 404 in the "unknown route" bucket and health checks left out.
 */
export async function runScenario({ url, appKey, log }: ScenarioOptions): Promise<void> {
  const telemeter = createTelemeter({
    url,
    appKey,
    storage: 'memory',
    deviceId: 'nest-task-tracker',
    appVersion: '1.0.0',
    flushIntervalMs: 100,
  })
  telemeter.on('dropped', (info) => log(`dropped ${info.requests} request(s): ${info.reason}`))
  const { app, url: base } = await startExample({ telemeter })
  log(`task tracker on ${base} (NestJS 11 + Express, TelemeterModule.forRoot({ telemeter }))`)
  const send = async (method: string, path: string, user?: string, body?: unknown) => {
    const headers: Record<string, string> = user ? { authorization: `Bearer ${user}` } : {}
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    await res.arrayBuffer()
    return `${res.status} ${res.headers.get('content-type')?.split(';')[0] ?? ''}`.trim()
  }
  try {
    log(
      `GET /api/v1/tasks/1 as ada -> ${await send('GET', '/api/v1/tasks/1', 'ada')}: trace "GET /api/v1/tasks/:id" for device ada`,
    )
    log(
      `GET /api/v1/tasks/99 as ada -> ${await send('GET', '/api/v1/tasks/99', 'ada')} (NotFoundException: a trace, not a crash)`,
    )
    log(
      `POST /api/v1/tasks {title:"x"} as grace -> ${await send('POST', '/api/v1/tasks', 'grace', { title: 'x' })} (the validation pipe failed: not a crash)`,
    )
    log(
      `POST /api/v1/tasks as grace -> ${await send('POST', '/api/v1/tasks', 'grace', { title: 'Plan the offsite' })} (task_created event for grace via TelemeterService)`,
    )
    log(
      `DELETE /api/v1/tasks/2 as grace -> ${await send('DELETE', '/api/v1/tasks/2', 'grace')} (AdminGuard rejected: timed, not a crash)`,
    )
    log(
      `GET /api/v1/tasks/1/report as ada -> ${await send('GET', '/api/v1/tasks/1/report', 'ada')} (the app's own filter answered; one crash, @Traced render_report)`,
    )
    log(`GET /wp-login.php -> ${await send('GET', '/wp-login.php')} (trace "GET unknown route", no raw URL)`)
    log(`GET /health -> ${await send('GET', '/health')} (health checks are not recorded)`)
  } finally {
    await app.close()
    await telemeter.shutdown({ timeoutMs: 5_000 })
  }
  const stats = telemeter.stats()
  log(`shut down: ${stats.sent} request(s) delivered, ${stats.dropped} dropped, ${stats.queued} left`)
}
