import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type {
  ReceivedCrash,
  ReceivedEvent,
  ReceivedTrace,
  StoredUser,
  TestServer,
  TestServerOptions,
} from '@telemeter/testkit'
import { createTelemeter, type Telemeter, type TelemeterConfig } from '../../src/index.js'
import { APP_KEY, captureLogger, onCleanup, tempDir, testServer } from '../helpers.js'

/**
 * Side-by-side runs for the parity suite: the same scenario through the
 * official `countly-sdk-nodejs` (in a child process: it is a singleton with
 * module state and file storage) and through Telemeter (in process), each
 * against its own protocol-validating test server, then a comparison of what
 * each server STORED. Only the differences the migration guide documents are
 * normalised away here (see `docs/migrating-from-countly-sdk-nodejs.md`,
 * "Differences that hold everywhere").
 */

export const DEVICE_ID = 'parity-device'
export const APP_VERSION = '1.2.3'
/** `_os` as Countly names this platform (what Telemeter sends). */
export const OS_NAME =
  ({ linux: 'Linux', darwin: 'macOS', win32: 'Windows' } as Record<string, string>)[process.platform] ??
  process.platform
/** The official SDK names platforms after `os.type()` in view segments. */
const OS_TYPE_NAMES: Record<string, string> = { Darwin: 'macOS', Windows_NT: 'Windows' }
const FIXTURE = fileURLToPath(new URL('./fixtures/official-sdk.cjs', import.meta.url))

/** Server settings both sides use: ended sessions are finalised at once. */
export const SERVER_OPTIONS: TestServerOptions = { sessionCooldownS: 0 }

export interface OfficialRun {
  server: TestServer
  /** What the scenario returned (values read back from the SDK). */
  result: Record<string, unknown>
  stdout: string
  stderr: string
  exitCode: number | null
  storageDir: string
}

export interface OfficialOptions {
  /** JSON argument handed to the scenario. */
  arg?: unknown
  /** Reuse a server (several runs against one server). */
  server?: TestServer
  serverOptions?: TestServerOptions
  /** Reuse a storage directory (a restart). */
  storageDir?: string
  /** The scenario is expected to die (uncaught exception). */
  expectCrash?: boolean
}

/** Run one scenario of `fixtures/official-sdk.cjs` in a fresh Node process. */
export async function runOfficial(scenario: string, options: OfficialOptions = {}): Promise<OfficialRun> {
  const server = options.server ?? (await testServer({ ...SERVER_OPTIONS, ...options.serverOptions }))
  const storageDir = options.storageDir ?? (await tempDir())
  // The official SDK appends file names to storage_path as is: without the slash they land beside the directory.
  const args = [FIXTURE, server.url, scenario, `${storageDir}/`]
  if (options.arg !== undefined) args.push(JSON.stringify(options.arg))
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve))
  if (exitCode !== 0 && !options.expectCrash) {
    throw new Error(
      `official scenario ${scenario} exited with ${exitCode}:\n${stderr}\n${stdout.slice(-2000)}`,
    )
  }
  const line = stdout.split('\n').find((text) => text.startsWith('RESULT '))
  const result = line ? (JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown>) : {}
  return { server, result, stdout, stderr, exitCode, storageDir }
}

export interface OursRun {
  server: TestServer
  telemeter: Telemeter
  logger: ReturnType<typeof captureLogger>
}

/** The Telemeter settings that match the official fixture's `init()`. */
export function baseConfig(server: TestServer, logger: ReturnType<typeof captureLogger>): TelemeterConfig {
  return {
    url: server.url,
    appKey: APP_KEY,
    deviceId: DEVICE_ID,
    appVersion: APP_VERSION,
    storage: 'memory',
    sessions: 'manual',
    flushIntervalMs: 10,
    serverConfig: false,
    retry: { baseDelayMs: 50, maxDelayMs: 500 },
    debug: logger,
  }
}

export interface OursOptions {
  config?: Partial<TelemeterConfig>
  server?: TestServer
  serverOptions?: TestServerOptions
}

/** Run the Telemeter half of a scenario in process; resolves after `flush()` (the instance stays open). */
export async function runOurs(
  scenario: (telemeter: Telemeter, server: TestServer) => unknown,
  options: OursOptions = {},
): Promise<OursRun> {
  const server = options.server ?? (await testServer({ ...SERVER_OPTIONS, ...options.serverOptions }))
  const logger = captureLogger()
  const telemeter = createTelemeter({ ...baseConfig(server, logger), ...options.config })
  onCleanup(() => telemeter.shutdown({ timeoutMs: 500 }))
  await scenario(telemeter, server)
  await telemeter.flush()
  return { server, telemeter, logger }
}

/** Both halves at once (they share nothing), so the suite takes the time of the slower one. */
export async function sideBySide(
  official: () => Promise<OfficialRun>,
  ours: () => Promise<OursRun>,
): Promise<[OfficialRun, OursRun]> {
  return Promise.all([official(), ours()])
}

// ---- What a server stored, normalised ------------------------------------------

/**
 * Events the server generates itself from other data (sessions, crashes,
 * traces, consent): compared through `userOf`, `crashesOf` and `tracesOf`
 * instead, because their segmentation holds server-made ids and times.
 */
const SERVER_MADE = /^\[CLY\]_(session_begin|session|crash|apm_network|apm_device|consent)$/

/** Events as stored, without the fields that differ by nature (times; measured durations become `'measured'`). */
export function eventsOf(server: TestServer, deviceId = DEVICE_ID) {
  return server
    .events({ deviceId })
    .filter((event) => !SERVER_MADE.test(event.key))
    .map(normaliseEvent)
}

export function normaliseEvent(event: ReceivedEvent) {
  const segmentation = { ...event.segmentation }
  if (typeof segmentation.segment === 'string') {
    segmentation.segment = OS_TYPE_NAMES[segmentation.segment] ?? segmentation.segment
  }
  const result: Record<string, unknown> = { key: event.key, count: event.count, segmentation }
  if (event.sum !== undefined) result.sum = event.sum
  if (event.dur !== undefined) result.dur = 'measured'
  return result
}

/** Custom events only (no `[CLY]_` internal ones). */
export function customEventsOf(server: TestServer, deviceId = DEVICE_ID) {
  return eventsOf(server, deviceId).filter((event) => !String(event.key).startsWith('[CLY]_'))
}

const USER_FIELDS = [
  'sc',
  'hos',
  'custom',
  'name',
  'username',
  'email',
  'organization',
  'phone',
  'picture',
  'gender',
  'byear',
  'country_code',
  'city',
  'ip',
  'location',
  'campaign_id',
  'campaign_user',
  'consent',
  'merged_ids',
  'vc',
  'lv',
] as const satisfies readonly (keyof StoredUser)[]

/**
 * The user document without what differs by nature: times (`fs`, `ls`,
 * `lbst`, `sd`, ...), SDK name/version, queue length `rr`, health check `hc`,
 * and Telemeter's extra `_locale` metric.
 */
export function userOf(server: TestServer, deviceId = DEVICE_ID) {
  const user = server.user(deviceId)
  if (!user) return undefined
  const picked: Record<string, unknown> = {}
  for (const field of USER_FIELDS) if (user[field] !== undefined) picked[field] = user[field]
  const { _locale, ...metrics } = user.metrics
  picked.metrics = metrics
  return picked
}

export function crashesOf(server: TestServer, deviceId = DEVICE_ID) {
  return server.crashes(deviceId).map((crash: ReceivedCrash) => ({
    name: crash.name,
    nonfatal: crash.nonfatal,
    os: crash.os,
    app_version: crash.app_version,
    logs: crash.logs,
    custom: crash.custom,
    /** The stack itself differs by nature (it is captured where each SDK runs); its first line does not. */
    firstLine: crash.error.split('\n')[0],
  }))
}

export function tracesOf(server: TestServer, deviceId = DEVICE_ID) {
  return server.traces({ deviceId }).map((trace: ReceivedTrace) => ({
    type: trace.type,
    name: trace.name,
    metrics: trace.metrics,
    durationMs: trace.etz - trace.stz,
  }))
}

/** Everything stored for a device, normalised. */
export function storedOf(server: TestServer, deviceId = DEVICE_ID) {
  return {
    events: eventsOf(server, deviceId),
    user: userOf(server, deviceId),
    crashes: crashesOf(server, deviceId),
    traces: tracesOf(server, deviceId),
  }
}

/** Processed `/i` items (single or bulk) of a device that carry `param`. */
export function itemsWith(server: TestServer, param: string, deviceId = DEVICE_ID) {
  return server.items
    .filter((item) => item.device_id === deviceId && item.outcome === 'processed')
    .map((item) => item.params)
    .filter((params) => params[param] !== undefined)
}

/** Violation codes, for the rows where the official SDK breaks the protocol. */
export function violationCodes(server: TestServer): string[] {
  return server.violations.map((violation) => violation.code)
}

const TELEMETER_CHILD = fileURLToPath(new URL('./fixtures/telemeter-uncaught.mjs', import.meta.url))

/** The Telemeter half of a scenario that must kill its process (runs the built package). */
export async function runTelemeterChild(
  url: string,
  storageDir: string,
  phase: 'crash' | 'drain',
): Promise<{ exitCode: number | null; stderr: string }> {
  const child = spawn(process.execPath, [TELEMETER_CHILD, url, storageDir, phase], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve))
  return { exitCode, stderr }
}
