// Run the example on its own:  pnpm --filter @telemeter/koa-example start
// With TELEMETER_URL and TELEMETER_APP_KEY set it reports there; otherwise it
// starts a local Countly stand-in and prints what that received.
import { runExample } from '@telemeter/testkit'
import { runScenario } from './scenario.js'

await runExample('koa-example', runScenario, { appKey: 'KOA_EXAMPLE' })
