// Every server default in one place; units are in the names. Values come
// from PROTOCOL.md (Countly `api` config defaults, formidable, Node).

export const DEFAULT_APP_KEY = 'TEST_APP_KEY'
export const DEFAULT_HOST = '127.0.0.1'
export const DEFAULT_SESSION_COOLDOWN_S = 15
export const SESSION_DURATION_LIMIT_S = 86_400
/** `session_duration` below zero is replaced by this (ingestor `processSession`). */
export const NEGATIVE_SESSION_DURATION_REPLACEMENT_S = 30
/** formidable `maxFieldsSize`. */
export const MAX_BODY_BYTES = 20 * 1024 * 1024
/** Node's default `--max-http-header-size`: URL + header names + values reaching it get a 431. */
export const MAX_HEADER_BYTES = 16 * 1024
/** Our own parser limit, so over-long URLs reach the handler and can be reported. */
export const PARSER_MAX_HEADER_BYTES = 1024 * 1024
export const ARRAY_LIST_LIMIT = 10
export const EVENT_KEY_MAX_LENGTH = 128
export const APM_NAME_MAX_LENGTH = 2048
export const APM_CUSTOM_METRIC_MAX_LENGTH = 32
export const WAIT_FOR_DEFAULT_TIMEOUT_MS = 5000
export const WAIT_FOR_POLL_INTERVAL_MS = 25
export const RECORDED_RESPONSE_MAX_CHARS = 64 * 1024
export const NEVER_ENDING_CHUNK_BYTES = 16 * 1024
export const NEVER_ENDING_INTERVAL_MS = 10
/** Future timestamps within this are normal clock jitter (+1 ms bumps) and not reported. */
export const FUTURE_TIMESTAMP_TOLERANCE_MS = 60_000

export const ZERO_DEVICE_ID = '00000000-0000-0000-0000-000000000000'

/** Params that hold JSON in GET / urlencoded requests (PROTOCOL §1 "Parameter encoding"). */
export const JSON_PARAMS = [
  'events',
  'metrics',
  'user_details',
  'crash',
  'consent',
  'apm',
  'keys',
  'omit_keys',
  'hc',
] as const

/** `[CLY]_` events the server keeps (plugins.internalEvents / internalDrillEvents). */
export const INTERNAL_EVENTS: ReadonlySet<string> = new Set([
  '[CLY]_session',
  '[CLY]_session_begin',
  '[CLY]_view',
  '[CLY]_action',
  '[CLY]_crash',
  '[CLY]_star_rating',
  '[CLY]_nps',
  '[CLY]_survey',
  '[CLY]_push_action',
  '[CLY]_push_sent',
  '[CLY]_consent',
  '[CLY]_apm_network',
  '[CLY]_apm_device',
  '[CLY]_llm_interaction',
])

/** `common.os_mapping` keys: an `_os` outside them gets a `[<os>]` prefix on its version. */
export const KNOWN_OS_NAMES: ReadonlySet<string> = new Set([
  'webos',
  'brew',
  'unknown',
  'undefined',
  'tvos',
  'apple tv',
  'watchos',
  'unity editor',
  'qnx',
  'os/2',
  'amazon fire tv',
  'amazon',
  'web',
  'windows',
  'open bsd',
  'searchbot',
  'sun os',
  'solaris',
  'beos',
  'mac osx',
  'macos',
  'mac',
  'osx',
  'linux',
  'unix',
  'ios',
  'android',
  'blackberry',
  'windows phone',
  'wp',
  'roku',
  'symbian',
  'chrome',
  'debian',
  'nokia',
  'firefox',
  'tizen',
  'arch',
])

export const USER_DETAIL_KEYS: ReadonlySet<string> = new Set([
  'name',
  'username',
  'email',
  'organization',
  'phone',
  'picture',
  'gender',
  'byear',
  'custom',
])

export const FORBIDDEN_PROPERTY_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

export const APM_NETWORK_METRICS: ReadonlySet<string> = new Set([
  'response_time',
  'response_code',
  'request_payload_size',
  'response_payload_size',
])
export const APM_DEVICE_METRICS: ReadonlySet<string> = new Set([
  'duration',
  'slow_rendering_frames',
  'frozen_frames',
])
export const APM_RESERVED_METRICS: ReadonlySet<string> = new Set([
  ...APM_NETWORK_METRICS,
  ...APM_DEVICE_METRICS,
])

/** Crash fields the crashes plugin keeps (without the leading `_`). */
export const CRASH_FIELDS: ReadonlySet<string> = new Set([
  'os',
  'os_version',
  'manufacture',
  'device',
  'resolution',
  'app_version',
  'cpu',
  'opengl',
  'view',
  'browser',
  'ram_current',
  'ram_total',
  'disk_current',
  'disk_total',
  'bat_current',
  'bat_total',
  'bat',
  'orientation',
  'root',
  'online',
  'muted',
  'signal',
  'background',
  'name',
  'type',
  'error',
  'nonfatal',
  'logs',
  'run',
  'architecture',
  'app_build',
  'binary_images',
  'build_uuid',
  'executable_name',
  'load_address',
  'native_cpp',
  'javascript',
  'plcrash',
  'binary_crash_dump',
  'unprocessed',
  'custom',
  'not_os_specific',
])
export const CRASH_BOOLEAN_FIELDS: ReadonlySet<string> = new Set([
  'root',
  'online',
  'muted',
  'signal',
  'background',
])
