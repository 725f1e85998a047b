// An ES module TypeScript consumer: import resolution, dist/index.d.mts.
import { createTelemeter, type DeviceScope } from '@telemeter/core'
import { type TelemeterExpressOptions, telemeterErrorHandler, telemeterMiddleware } from '@telemeter/express'
import express, { type Request, type Response } from 'express'

const telemeter = createTelemeter({ url: 'http://127.0.0.1:1', appKey: 'KEY' })
const options: TelemeterExpressOptions<Request> = { deviceId: (req) => req.get('x-user'), sampleRate: 0.5 }
const app: express.Express = express()
app.use(telemeterMiddleware(telemeter, options))
app.get('/users/:id', (req: Request, res: Response) => {
  const scope: DeviceScope = req.telemeter
  scope.event('profile_viewed')
  res.json({ device: scope.deviceId })
})
app.use(telemeterErrorHandler(telemeter))
export default app
