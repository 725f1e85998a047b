// The receiving side, in its own process: the Countly stand-in for Telemeter
// and the official SDK, plus a sink that counts the request spans Sentry sends.
import { createServer } from 'node:http'
import { startTestServer } from '@telemeter/testkit'

const server = await startTestServer({ appKey: process.env.BENCH_APP_KEY })
let sentryTransactions = 0
const sink = createServer((req, res) => {
  let body = ''
  req.setEncoding('utf8')
  req.on('data', (chunk) => {
    body += chunk
  })
  req.on('end', () => {
    // Sentry >= 10 streams spans ("is_segment":true marks a request's root span); older ones send transactions.
    sentryTransactions += body.split('"is_segment":true').length - 1
    sentryTransactions += body.split('"type":"transaction"').length - 1
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  })
})
await new Promise((resolve) => sink.listen(0, '127.0.0.1', resolve))

process.send({
  type: 'ready',
  url: server.url,
  sentryDsn: `http://public@127.0.0.1:${sink.address().port}/1`,
})
// Never outlive the benchmark.
process.on('disconnect', () => process.exit(0))
process.on('message', async (message) => {
  if (message.type === 'reset') {
    server.reset()
    sentryTransactions = 0
    process.send({ type: 'reset' })
  } else if (message.type === 'count') {
    process.send({
      type: 'count',
      traces: server.traces({ type: 'network' }).length,
      violations: server.violations.length,
      httpRequests: server.requests.length,
      sentryTransactions,
    })
  } else if (message.type === 'exit') {
    sink.close()
    await server.close()
    process.exit(0)
  }
})
