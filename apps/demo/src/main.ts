// The demo: a local Countly stand-in (@telemeter/testkit), then each scenario
// sends to it, and we print what the server received and stored.
import { runScenario as expressScenario } from '@telemeter/express-example/scenario'
import { runScenario as koaScenario } from '@telemeter/koa-example/scenario'
import { runScenario as nestScenario } from '@telemeter/nest-example/scenario'
import { runScenario as otelScenario } from '@telemeter/otel-example/scenario'
import { runScenario as selfHostedScenario } from '@telemeter/self-hosted-example/scenario'
import { type Scenario, startTestServer, summarize } from '@telemeter/testkit'
import { runScenario as coreScenario } from './core-scenario.js'

const APP_KEY = 'DEMO_APP_KEY'

const scenarios: { readonly title: string; readonly run: Scenario }[] = [
  { title: '@telemeter/core: a backend reporting for itself and its users', run: coreScenario },
  { title: '@telemeter/express: an API with nested routers, errors and streams', run: expressScenario },
  { title: '@telemeter/koa: a bookshop with @koa/router, sessions and a stream', run: koaScenario },
  { title: '@telemeter/nest: a NestJS app with guards, pipes and its own filter', run: nestScenario },
  { title: '@telemeter/otel: an OpenTelemetry-instrumented node:http service', run: otelScenario },
  { title: 'Product telemetry of a self-hosted server (instance())', run: selfHostedScenario },
]

const line = (text = '') => process.stdout.write(`${text}\n`)
const rule = (title: string) => line(`\n=== ${title} ${'='.repeat(Math.max(3, 76 - title.length))}`)

async function main(): Promise<void> {
  const server = await startTestServer({
    appKey: APP_KEY,
    sessionCooldownS: 0,
    remoteConfig: { dark_mode: true, export_limit: 500 },
  })
  line(`Countly stand-in listening on ${server.url} (app key ${APP_KEY})`)
  let failures = 0
  try {
    for (const scenario of scenarios) {
      rule(scenario.title)
      server.reset()
      try {
        await scenario.run({ url: server.url, appKey: APP_KEY, log: (text) => line(`  - ${text}`) })
      } catch (error) {
        failures++
        line(`  ! scenario failed: ${(error as Error).stack ?? String(error)}`)
      }
      line('\n  What the server received:')
      line(
        summarize(server)
          .split('\n')
          .map((text) => `    ${text}`)
          .join('\n'),
      )
      if (server.violations.length > 0) {
        failures++
        line(
          `  ! ${server.violations.length} protocol violation(s): ${server.violations.map((v) => v.message).join('; ')}`,
        )
      }
    }
  } finally {
    await server.close()
  }
  line(
    failures === 0
      ? '\nAll scenarios delivered their data to the stand-in server.'
      : `\n${failures} problem(s), see above.`,
  )
  process.exitCode = failures === 0 ? 0 : 1
}

void main()
