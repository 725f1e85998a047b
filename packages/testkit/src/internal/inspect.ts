import { parseArgs } from 'node:util'
import type { TestServer, TestServerOptions } from '../types.js'
import { printLive } from './live.js'
import { summarize } from './summary.js'
import { startTestServer } from './test-server.js'

export const INSPECT_USAGE = `Usage: telemeter-inspect [options]

A protocol-validating Countly stand-in: point an SDK at the printed URL and
watch every request, event, crash and trace it sends. Ctrl-C prints a summary.

Options:
  --port <n>          port to listen on (default 3030; 0 = any free port)
  --host <addr>       interface (default 127.0.0.1)
  --app-key <key>     accepted app key, repeatable (default TEST_APP_KEY)
  --salt <salt>       enforce checksum / checksum256 with this salt
  --path-prefix <p>   strip this prefix before routing (e.g. /countly)
  --cooldown <s>      session cooldown in seconds (default 15)
  --json              print one JSON object per line
  -h, --help          show this help`

export const DEFAULT_INSPECT_PORT = 3030

/** A running inspector: the server and how to stop it (prints the summary). */
export interface Inspector {
  server: TestServer
  stop(): Promise<void>
}

/** Parse `argv`, start the server and print live until `stop()`. */
export async function runInspect(
  argv: readonly string[],
  write: (line: string) => void,
): Promise<Inspector | undefined> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'app-key': { type: 'string', multiple: true },
      salt: { type: 'string' },
      'path-prefix': { type: 'string' },
      cooldown: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  })
  if (values.help) {
    write(INSPECT_USAGE)
    return undefined
  }
  const options: TestServerOptions = { port: toNumber('--port', values.port) ?? DEFAULT_INSPECT_PORT }
  if (values.host !== undefined) options.host = values.host
  if (values['app-key'] !== undefined) options.appKey = values['app-key']
  if (values.salt !== undefined) options.salt = values.salt
  if (values['path-prefix'] !== undefined) options.pathPrefix = values['path-prefix']
  const cooldown = toNumber('--cooldown', values.cooldown)
  if (cooldown !== undefined) options.sessionCooldownS = cooldown
  const json = values.json === true
  const server = await startTestServer(options)
  const keys = [options.appKey ?? 'TEST_APP_KEY'].flat().join(', ')
  if (json) write(JSON.stringify({ kind: 'listening', url: server.url, appKeys: keys.split(', ') }))
  else
    write(`telemeter-inspect listening on ${server.url}  (app key ${keys}${options.salt ? ', salted' : ''})`)
  const stopPrinting = printLive(server, { write, json })
  let stopped = false
  return {
    server,
    async stop() {
      if (stopped) return
      stopped = true
      stopPrinting()
      const summary = summarize(server)
      write(json ? JSON.stringify({ kind: 'summary', text: summary }) : `\n${summary}`)
      await server.close()
    },
  }
}

function toNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0)
    throw new TypeError(`${flag} must be a non-negative number, got "${value}"`)
  return n
}
