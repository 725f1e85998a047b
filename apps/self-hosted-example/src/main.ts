// Runs the Notes server on its own (PORT, default 3000) until Ctrl-C. Telemetry goes to
// TELEMETER_URL / TELEMETER_APP_KEY when set (or where the admin page last pointed it);
// otherwise to a local Countly stand-in started here, whose summary is printed on exit.
// `--scenario` drives the demo scenario instead and exits.
import { runExample, startTestServer, summarize, type TestServer } from '@telemeter/testkit'
import { createApp, listen, NoteStore } from './app.js'
import { runScenario } from './scenario.js'
import {
  dataDirOf,
  LOCAL_APP_KEY,
  LOCAL_TESTKIT_PORT,
  LOCAL_TESTKIT_URL,
  loadSettings,
  saveSettings,
} from './settings-file.js'
import { TelemetryControl } from './telemetry.js'

const out = (line: string) => process.stdout.write(`${line}\n`)

async function serve(): Promise<void> {
  const dataDir = dataDirOf()
  const settings = loadSettings(dataDir)
  let standIn: TestServer | undefined
  if (settings.url === LOCAL_TESTKIT_URL) {
    standIn = await startTestServer({
      appKey: settings.appKey,
      port: LOCAL_TESTKIT_PORT,
      sessionCooldownS: 0,
    })
    out(`Countly stand-in on ${standIn.url} (app key ${settings.appKey})`)
  }
  const store = new NoteStore()
  const control = new TelemetryControl({
    settings,
    storage: { dataDir },
    appVersion: '2.4.0',
    properties: () => ({ notes: store.notes.length }),
    onChange: (next) => saveSettings(dataDir, next),
  })
  const app = await listen(createApp(control, store), Number(process.env.PORT || 3000))
  out(`Notes on ${app.url}; telemetry data in ${dataDir}`)
  out(`  curl -X POST ${app.url}/api/notes -H 'x-user: ada' -d '{"text":"hello"}'`)
  out(`  curl ${app.url}/admin/telemetry`)
  out(`  curl -X POST ${app.url}/admin/telemetry -d '{"tracking":{"crashes":false},"identifiers":"none"}'`)
  out(`  curl -X POST ${app.url}/admin/telemetry -d '{"enabled":false}'`)
  out('  pnpm --filter @telemeter/self-hosted-example status')
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    await app.close()
    await control.shutdown()
    if (standIn) {
      out(`\nWhat the stand-in received:\n${summarize(standIn)}`)
      await standIn.close()
    }
    process.exit(0)
  }
  process.on('SIGINT', () => void stop())
  process.on('SIGTERM', () => void stop())
}

await (process.argv.includes('--scenario')
  ? runExample('self-hosted-example', runScenario, { appKey: LOCAL_APP_KEY })
  : serve())
