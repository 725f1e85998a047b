import type { Request, Response } from 'express'
import { describe, expect, it } from 'vitest'
import { type TelemeterExpressOptions, telemeterErrorHandler, telemeterMiddleware } from '../src/index.js'
import {
  EXPRESS_VERSIONS,
  type ExpressModule,
  everythingSent,
  listen,
  request,
  type Setup,
  setup,
  traces,
} from './helpers.js'

const SECRETS = {
  query: 'q-secret-4711',
  email: 'ada@example.org',
  authorization: 'Bearer tok-secret-9',
  cookie: 'sid=cookie-secret-5',
  body: 'hunter2-password',
  forwardedIp: '203.0.113.77',
  userAgent: 'AgentSecret/1.0',
}

function privacyApp(express: ExpressModule, t: Setup, options?: TelemeterExpressOptions<Request>) {
  const app = express()
  app.set('env', 'test')
  app.set('trust proxy', true)
  app.use(telemeterMiddleware(t.telemeter, options))
  app.post('/login', express.json(), (req: Request, res: Response) => {
    res.json({ ok: Boolean((req.body as { password?: string }).password) })
  })
  app.post('/crash', express.json(), () => {
    throw new Error('failed to log in')
  })
  app.use(telemeterErrorHandler(t.telemeter))
  return app
}

function secretRequest(base: string, path: string) {
  return request(base, `${path}?token=${SECRETS.query}&email=${SECRETS.email}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: SECRETS.authorization,
      cookie: SECRETS.cookie,
      'x-forwarded-for': SECRETS.forwardedIp,
      'user-agent': SECRETS.userAgent,
      'x-device-id': 'private-device',
    },
    body: JSON.stringify({ email: SECRETS.email, password: SECRETS.body }),
  })
}

describe.each(EXPRESS_VERSIONS)('privacy on $name', ({ express }) => {
  it('sends no query string, header, cookie, body or IP', async () => {
    const t = await setup()
    const base = await listen(privacyApp(express, t))
    expect((await secretRequest(base, '/login')).status).toBe(200)
    expect((await secretRequest(base, '/crash')).status).toBe(500)
    await traces(t, 2)
    expect(t.server.crashes()).toHaveLength(1)
    const sent = everythingSent(t.server)
    for (const secret of Object.values(SECRETS)) expect(sent).not.toContain(encodeURIComponent(secret))
    for (const secret of Object.values(SECRETS)) expect(sent).not.toContain(secret)
    expect(t.server.items.filter((item) => item.params.ip_address !== undefined)).toEqual([])
    expect(t.server.violations).toEqual([])
  })

  it('sends the client IP (as Express resolves it) with the session start only with trackIp', async () => {
    const t = await setup()
    const base = await listen(privacyApp(express, t, { trackIp: true }))
    await secretRequest(base, '/login')
    await traces(t, 1)
    const begins = t.server.items.filter((item) => item.params.begin_session !== undefined)
    expect(begins.map((item) => [item.device_id, item.params.ip_address])).toEqual([
      ['private-device', SECRETS.forwardedIp],
    ])
  })
})
