import { createHash } from 'node:crypto'
import type { StoredUser } from '../types.js'
import type { ItemContext } from './context.js'
import { objectParam, type ParsedParams, stringParam } from './params.js'
import type { ServerState, UserRecord } from './state.js'
import { userKey } from './state.js'
import { isNumeric } from './values.js'

export function appUserId(appKey: string, deviceId: string): string {
  return createHash('sha1')
    .update(appKey + deviceId)
    .digest('hex')
}

export function findUser(state: ServerState, appKey: string, deviceId: string): UserRecord | undefined {
  return state.users.get(userKey(appKey, deviceId))
}

/** `createUserDocument`: a fresh `app_users` document with a short per-app uid. */
export function createUser(state: ServerState, appKey: string, deviceId: string, nowS: number): UserRecord {
  const next = state.nextUid.get(appKey) ?? 1
  state.nextUid.set(appKey, next + 1)
  const doc: StoredUser = {
    _id: appUserId(appKey, deviceId),
    uid: next.toString(36),
    did: deviceId,
    app_key: appKey,
    fs: nowS,
    ls: nowS,
    sc: 0,
    sd: 0,
    tsd: 0,
    hos: false,
    lsid: undefined,
    lbst: undefined,
    lest: undefined,
    t: undefined,
    sdk: {},
    rr: undefined,
    hc: undefined,
    tz: undefined,
    metrics: {},
    consent: {},
    custom: {},
    location: undefined,
    country_code: undefined,
    city: undefined,
    region: undefined,
    ip: undefined,
    merged_ids: [],
    campaign_id: undefined,
    campaign_user: undefined,
    rc_enrolments: [],
    vc: 0,
    lv: undefined,
    ornt: undefined,
    last_req: undefined,
  }
  const record: UserRecord = { doc, pendingClose: undefined, lsparams: undefined }
  state.users.set(userKey(appKey, deviceId), record)
  return record
}

/**
 * `processUser`: with `old_device_id` the old user is merged into the one of
 * `device_id` (renamed when the new one does not exist yet, folded into it
 * otherwise); then the user is created if still missing.
 */
export function processUser(
  state: ServerState,
  appKey: string,
  deviceId: string,
  oldDeviceId: string | undefined,
  nowS: number,
  finalisePending: (record: UserRecord) => void,
): UserRecord {
  const existing = findUser(state, appKey, deviceId)
  if (oldDeviceId !== undefined && oldDeviceId !== '' && oldDeviceId !== deviceId) {
    const old = findUser(state, appKey, oldDeviceId)
    if (old) {
      state.users.delete(userKey(appKey, oldDeviceId))
      if (!existing) {
        old.doc.did = deviceId
        old.doc._id = appUserId(appKey, deviceId)
        old.doc.merged_ids.push(oldDeviceId)
        state.users.set(userKey(appKey, deviceId), old)
        return old
      }
      finalisePending(old)
      foldUser(existing.doc, old.doc)
      return existing
    }
  }
  return existing ?? createUser(state, appKey, deviceId, nowS)
}

/** The new user keeps its own values and takes the old one's where it has none. */
function foldUser(target: StoredUser, old: StoredUser): void {
  target.sc += old.sc
  target.tsd += old.tsd
  target.fs = Math.min(target.fs, old.fs)
  target.ls = Math.max(target.ls, old.ls)
  target.metrics = { ...old.metrics, ...target.metrics }
  target.consent = { ...old.consent, ...target.consent }
  target.custom = { ...old.custom, ...target.custom }
  target.sdk = { ...old.sdk, ...target.sdk }
  target.merged_ids = [...target.merged_ids, ...old.merged_ids, old.did]
  target.rc_enrolments = [...new Set([...old.rc_enrolments, ...target.rc_enrolments])]
  const fillable = [
    't',
    'rr',
    'hc',
    'tz',
    'name',
    'username',
    'email',
    'organization',
    'phone',
    'picture',
    'gender',
    'byear',
    'location',
    'country_code',
    'city',
    'region',
    'ip',
    'campaign_id',
    'campaign_user',
    'ornt',
  ] as const
  const t = target as unknown as Record<string, unknown>
  const o = old as unknown as Record<string, unknown>
  for (const key of fillable) {
    if (t[key] === undefined && o[key] !== undefined) t[key] = o[key]
  }
}

/** Plain request params stored on the user: `sdk_name`, `sdk_version`, `t`, `rr`, `hc`, `tz`, ip, campaign. */
export function updateUserFields(ctx: ItemContext, parsed: ParsedParams, ip: string): void {
  const doc = ctx.user.doc
  const params = ctx.params
  const sdkName = stringParam(params, 'sdk_name')
  const sdkVersion = stringParam(params, 'sdk_version')
  if (sdkName !== undefined) doc.sdk.name = sdkName
  if (sdkVersion !== undefined) doc.sdk.version = sdkVersion
  for (const name of ['t', 'rr'] as const) {
    const value = params[name]
    if (value === undefined || value === '') continue
    if (isNumeric(value)) doc[name] = Number(value)
    else ctx.violate('invalid-param', `"${name}" must be a number, got ${JSON.stringify(value)}`)
  }
  if (params.tz !== undefined && params.tz !== '') {
    const tz = Number.parseInt(String(params.tz), 10)
    if (Number.isNaN(tz))
      ctx.violate('invalid-time-field', `"tz" must be minutes from UTC, got ${JSON.stringify(params.tz)}`)
    else doc.tz = tz
  }
  const hc = objectParam(parsed, 'hc', ctx.violate)
  if (hc) doc.hc = hc
  doc.ip = ip
  const campaignId = stringParam(params, 'campaign_id')
  const campaignUser = stringParam(params, 'campaign_user')
  if (campaignId !== undefined) doc.campaign_id = campaignId
  if (campaignUser !== undefined) doc.campaign_user = campaignUser
  if (ctx.time.s > doc.ls) doc.ls = ctx.time.s
}

export function cloneUser(doc: StoredUser): StoredUser {
  return structuredClone(doc)
}
