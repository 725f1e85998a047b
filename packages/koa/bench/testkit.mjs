// The protocol-validating Countly stand-in, in its own process so the server
// under load does not share an event loop with it. IPC: sends { url } when
// listening; answers 'count' with the traces and violations received since 'reset'.
import { startTestServer } from '@telemeter/testkit'

const appKey = process.argv[2]
const server = await startTestServer({ appKey })
process.send({ url: server.url })
process.on('message', (message) => {
  if (message === 'reset') {
    server.reset()
    process.send('ok')
  } else if (message === 'count') {
    process.send({
      traces: server.traces({ type: 'network', name: 'GET /users/:id' }).length,
      violations: server.violations.length,
      firstViolation: server.violations[0]?.message,
    })
  } else if (message === 'close') {
    server.close().then(() => process.exit(0))
  }
})
