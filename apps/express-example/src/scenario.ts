import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createTelemeter } from '@telemeter/core'
import type { ScenarioOptions } from '@telemeter/testkit'
import { createApp } from './app.js'

/**
 * The demo: an Express API with Telemeter, driven through its interesting
 * cases. Every request becomes a trace named after its route template;
 * the failing report becomes a crash; users map to devices with sessions.
 */
export async function runScenario({ url, appKey, log }: ScenarioOptions): Promise<void> {
  const telemeter = createTelemeter({ url, appKey, storage: 'memory', deviceId: 'express-example-server' })
  const app = createApp(telemeter)
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
  })
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const steps: [string, string, RequestInit?][] = [
    ['read a project as alice', '/api/v1/projects/p-1'],
    [
      'create a task as alice',
      '/api/v1/projects/p-1/tasks',
      {
        method: 'POST',
        body: JSON.stringify({ title: 'Review copy' }),
        headers: { 'content-type': 'application/json' },
      },
    ],
    ['render the report as alice', '/api/v1/projects/p-1/report'],
    [
      'download the CSV export (streamed) as bob',
      '/api/v2/projects/p-1/export.csv',
      { headers: { 'x-user-id': 'bob' } },
    ],
    ['render the report of an empty project: the async handler throws', '/api/v1/projects/p-2/report'],
    ['ask for a project that does not exist (404, not a crash)', '/api/v1/projects/p-404'],
    ['ask for a route that does not exist', '/api/v1/nothing/here?token=never-recorded'],
    ['health probe (ignored)', '/healthz'],
  ]
  try {
    for (const [what, path, init] of steps) {
      const headers = { 'x-user-id': 'alice', ...(init?.headers as Record<string, string> | undefined) }
      const response = await fetch(base + path, { ...init, headers })
      const body = await response.text()
      log(
        `${what}: ${init?.method ?? 'GET'} ${path} -> ${response.status} (${Buffer.byteLength(body)} bytes)`,
      )
    }
  } finally {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await telemeter.shutdown()
  }
  log(
    'recorded: one network trace per request (route templates, no ids), a crash for the failing report, sessions for alice and bob',
  )
}
