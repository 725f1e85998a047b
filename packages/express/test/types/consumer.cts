// A CommonJS TypeScript consumer: require() resolution, dist/index.d.cts.
import express = require('express')
import telemeterExpress = require('@telemeter/express')
import core = require('@telemeter/core')

const telemeter = core.createTelemeter({ url: 'http://127.0.0.1:1', appKey: 'KEY' })
const app: express.Express = express()
app.use(
  telemeterExpress.telemeterMiddleware(telemeter, {
    deviceId: (req) => req.headers['x-tenant-user'] as string,
  }),
)
app.get('/users/:id', (req: express.Request, res: express.Response) => {
  req.telemeter.event('profile_viewed', { segmentation: { self: req.params.id === 'me' } })
  res.json({ device: req.telemeter.deviceId })
})
app.use(telemeterExpress.telemeterErrorHandler(telemeter))
export = app
