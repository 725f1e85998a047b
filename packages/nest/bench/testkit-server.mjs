// The Countly stand-in in its own process (pinned with the load generator),
// so it does not share an event loop with the server under test. IPC: sends
// { url }; answers 'count' with the network traces and violations since 'reset'.
import { startTestServer } from '@telemeter/testkit'

const server = await startTestServer({ appKey: process.argv[2] })
process.send({ url: server.url })
process.on('message', (message) => {
  if (message === 'reset') server.reset()
  if (message === 'count')
    process.send({
      traces: server.traces({ type: 'network', name: 'GET /users/:id' }).length,
      outcomes: server.items.reduce((counts, item) => {
        counts[item.reason ?? item.outcome] = (counts[item.reason ?? item.outcome] ?? 0) + 1
        return counts
      }, {}),
      violations: server.violations.map((violation) => violation.message),
    })
  if (message === 'reset') process.send('ok')
  if (message === 'close') void server.close().then(() => process.exit(0))
})
