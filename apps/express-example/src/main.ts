// Run the example standalone:  pnpm --filter @telemeter/express-example start
// With TELEMETER_URL and TELEMETER_APP_KEY set, it reports there; otherwise it
// starts a local test server and prints what it received at the end.
import { startTestServer, summarize } from '@telemeter/testkit'
import { runScenario } from './scenario.js'

const url = process.env.TELEMETER_URL
const appKey = process.env.TELEMETER_APP_KEY
const log = (line: string) => console.log(`[express-example] ${line}`)

if (url && appKey) {
  await runScenario({ url, appKey, log })
} else {
  const server = await startTestServer({ appKey: 'EXPRESS_EXAMPLE' })
  await runScenario({ url: server.url, appKey: 'EXPRESS_EXAMPLE', log })
  console.log(`\nWhat the Countly stand-in received:\n${summarize(server)}`)
  await server.close()
}
