import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parsePatch, SettingsError } from './settings.js'
import type { TelemetryControl } from './telemetry.js'

/** The app's own data: notes in memory. */
export class NoteStore {
  readonly notes: { id: number; text: string; author: string }[] = []
  add(text: string, author: string): { id: number; text: string; author: string } {
    const note = { id: this.notes.length + 1, text, author }
    this.notes.push(note)
    return note
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')
  } catch {
    throw new HttpError(400, 'body is not JSON')
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/**
 * "Notes", a tiny self-hosted app. Product telemetry: feature use is counted
 * per day (`instance.count`), visited sections too (`instance.section`), and
 * server errors are reported (`instance.captureError`). When the operator lets
 * users be identified, their own events go under their (hashed) id.
 * `/admin/telemetry` is the operator's settings page (no authentication: an example).
 */
export function createApp(control: TelemetryControl, store = new NoteStore()): Server {
  const routes: Record<string, (req: IncomingMessage) => Promise<[number, unknown]>> = {
    'GET /api/notes': async () => {
      control.instance.section('notes')
      return [200, store.notes]
    },
    'POST /api/notes': async (req) => {
      const body = (await readJson(req)) as { text?: unknown }
      if (typeof body.text !== 'string' || body.text === '') throw new HttpError(400, 'text is required')
      const user = req.headers['x-user']
      const author = typeof user === 'string' ? user : 'anonymous'
      const note = store.add(body.text, author)
      control.instance.count('note.created')
      const email = req.headers['x-user-email']
      control
        .userScope(typeof user === 'string' ? user : undefined, typeof email === 'string' ? email : undefined)
        ?.event('note.created')
      return [201, note]
    },
    'GET /api/notes/export': async () => {
      control.instance.count('note.exported', Math.max(1, store.notes.length))
      return [200, { format: 'json', notes: store.notes }]
    },
    'GET /api/reports/broken': async () => {
      throw new Error('report renderer crashed')
    },
    'GET /admin/users': async () => {
      control.instance.section('settings/users')
      return [200, [...new Set(store.notes.map((note) => note.author))]]
    },
    'GET /admin/telemetry': async () => {
      control.instance.section('settings/telemetry')
      return [200, control.report()]
    },
    'POST /admin/telemetry': async (req) => {
      try {
        await control.update(parsePatch(await readJson(req)))
      } catch (error) {
        if (error instanceof SettingsError) throw new HttpError(400, error.message)
        throw error
      }
      return [200, control.report()]
    },
    'GET /health': async () => [200, { ok: true }],
  }

  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    const route = routes[`${req.method} ${path}`]
    if (!route) return send(res, 404, { error: 'not found' })
    route(req).then(
      ([status, body]) => send(res, status, body),
      (error: unknown) => {
        if (error instanceof HttpError) return send(res, error.status, { error: error.message })
        control.instance.captureError(error, { segmentation: { route: `${req.method} ${path}` } })
        send(res, 500, { error: 'internal error' })
      },
    )
  })
}

/** Listen on an ephemeral (or given) loopback port. */
export async function listen(server: Server, port = 0): Promise<{ url: string; close(): Promise<void> }> {
  server.listen(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve())
    server.once('error', reject)
  })
  const address = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
