// Runs the example on its own. With TELEMETER_URL and TELEMETER_APP_KEY set it
// reports there; otherwise it starts a local Countly stand-in and prints what
// that received.
import { startTestServer, summarize } from '@telemeter/testkit'
import { runScenario } from './scenario.js'

const log = (line: string) => process.stdout.write(`  - ${line}\n`)

async function main(): Promise<void> {
  const url = process.env.TELEMETER_URL
  const appKey = process.env.TELEMETER_APP_KEY
  if (url && appKey) {
    await runScenario({ url, appKey, log })
    return
  }
  const server = await startTestServer({ appKey: 'OTEL_EXAMPLE', sessionCooldownS: 0 })
  process.stdout.write(`Countly stand-in on ${server.url}\n`)
  try {
    await runScenario({ url: server.url, appKey: 'OTEL_EXAMPLE', log })
    process.stdout.write(`\nWhat the server received:\n${summarize(server)}\n`)
    if (server.violations.length > 0) {
      process.stdout.write(`\n${server.violations.length} protocol violation(s):\n`)
      for (const violation of server.violations) process.stdout.write(`  ${violation.message}\n`)
      process.exitCode = 1
    }
  } finally {
    await server.close()
  }
}

void main()
