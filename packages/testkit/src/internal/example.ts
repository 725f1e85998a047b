import type { Scenario, TestServerOptions } from '../types.js'
import { summarize } from './summary.js'
import { startTestServer } from './test-server.js'

/**
 * Run an example scenario on its own: against `TELEMETER_URL` and
 * `TELEMETER_APP_KEY` when both are set, otherwise against a local test
 * server whose summary (and any protocol violation) is printed at the end.
 * Sets a failing exit code when the scenario throws or the server saw a
 * violation.
 *
 * @example
 * ```ts
 * // apps/my-example/src/main.ts
 * import { runExample } from '@telemeter/testkit'
 * import { runScenario } from './scenario.js'
 * await runExample('my-example', runScenario)
 * ```
 */
export async function runExample(
  name: string,
  scenario: Scenario,
  options: { appKey?: string; server?: TestServerOptions } = {},
): Promise<void> {
  const write = (line: string) => process.stdout.write(`${line}\n`)
  const log = (line: string) => write(`[${name}] ${line}`)
  const url = process.env.TELEMETER_URL
  const appKey = process.env.TELEMETER_APP_KEY
  try {
    if (url && appKey) {
      await scenario({ url, appKey, log })
      return
    }
    const key = options.appKey ?? 'EXAMPLE_APP_KEY'
    const server = await startTestServer({ sessionCooldownS: 0, ...options.server, appKey: key })
    write(`Countly stand-in on ${server.url}`)
    try {
      await scenario({ url: server.url, appKey: key, log })
      write(`\nWhat the Countly stand-in received:\n${summarize(server)}`)
      if (server.violations.length > 0) {
        write(`\n${server.violations.length} protocol violation(s):`)
        for (const violation of server.violations) write(`  ${violation.message}`)
        process.exitCode = 1
      }
    } finally {
      await server.close()
    }
  } catch (error) {
    process.stderr.write(`[${name}] failed: ${(error as Error)?.stack ?? String(error)}\n`)
    process.exitCode = 1
  }
}
