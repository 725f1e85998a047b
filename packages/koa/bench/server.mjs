// A Koa app under load, one variant per process: `bare`, `telemeter` (default
// file storage), `telemeter-memory`, `countly` (the official countly-sdk-nodejs),
// and for a cost breakdown `scope-only` and `telemeter-disabled`.
// Talks to the runner over IPC: sends { port } when listening; 'window-start'
// / 'window-stop' measure its CPU time and event-loop stalls over a window;
// 'drain' delivers what is queued; 'stop' delivers it and answers
// { handled, peakRss, stats, drainMs }.
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import Router from '@koa/router'

const require = createRequire(import.meta.url)
const [variant, url, appKey, koaName = 'koa'] = process.argv.slice(2)
const Koa = require(koaName)
const app = new Koa()
app.silent = true
let handled = 0
let telemeter
let storagePath

if (variant === 'telemeter' || variant === 'telemeter-memory') {
  const { createTelemeter } = await import('@telemeter/core')
  const { telemeterKoa } = await import('@telemeter/koa')
  storagePath = mkdtempSync(join(tmpdir(), 'telemeter-koa-bench-'))
  telemeter = createTelemeter({
    url,
    appKey,
    deviceId: 'bench-server',
    storage: variant === 'telemeter' ? 'file' : 'memory',
    storagePath,
  })
  app.use(telemeterKoa(telemeter))
} else if (variant === 'countly') {
  const Countly = require('countly-sdk-nodejs')
  storagePath = mkdtempSync(join(tmpdir(), 'countly-koa-bench-'))
  Countly.init({ app_key: appKey, url, device_id: 'bench-countly', storage_path: storagePath })
  // The way its README records a request: a network trace per request, from a middleware.
  app.use(async (ctx, next) => {
    const stz = Date.now()
    await next()
    const etz = Date.now()
    Countly.report_trace({
      type: 'network',
      name: `${ctx.method} ${ctx._matchedRoute ?? 'unknown route'}`,
      stz,
      etz,
      apm_metrics: {
        response_time: etz - stz,
        response_code: ctx.status,
        request_payload_size: Number(ctx.get('content-length')) || 0,
        response_payload_size: ctx.length ?? 0,
      },
    })
  })
} else if (variant === 'scope-only') {
  // The AsyncLocalStorage scope alone, as telemeterKoa sets it (cost breakdown).
  const { runWithScope } = await import('@telemeter/core')
  const scope = {}
  app.use((_ctx, next) => runWithScope(scope, next))
} else if (variant === 'telemeter-disabled') {
  // The middleware and core's per-request decisions, with nothing recorded or sent (cost breakdown).
  const { createTelemeter } = await import('@telemeter/core')
  const { telemeterKoa } = await import('@telemeter/koa')
  telemeter = createTelemeter({ url, appKey, deviceId: 'bench-server', storage: 'memory', disabled: true })
  app.use(telemeterKoa(telemeter))
} else if (variant !== 'bare') {
  throw new Error(`unknown variant ${variant}`)
}

const router = new Router()
router.get('/users/:id', (ctx) => {
  handled++
  ctx.body = { id: ctx.params.id, name: `user ${ctx.params.id}`, plan: 'pro' }
})
app.use(router.routes())

let peakRss = process.memoryUsage.rss()
const rssTimer = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss())
}, 100)
const stalls = monitorEventLoopDelay({ resolution: 1 })
/** Deliver the backlog the load left (bounded); how long it took. */
async function drain() {
  const started = performance.now()
  if (telemeter)
    while (telemeter.stats().queued > 0 && performance.now() - started < 120_000) await telemeter.flush()
  return performance.now() - started
}

let measured

const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
process.on('message', async (message) => {
  if (message === 'window-start') {
    stalls.reset()
    stalls.enable()
    measured = { usage: process.cpuUsage(), at: performance.now(), handled }
    process.send('ok')
  } else if (message === 'window-stop') {
    // Server CPU over a measured window, and the longest event-loop stall in it.
    const usage = process.cpuUsage(measured.usage)
    const wallMs = performance.now() - measured.at
    stalls.disable()
    const cpuMs = (usage.user + usage.system) / 1000
    process.send({
      cpuPercent: (cpuMs / wallMs) * 100,
      cpuMs,
      requests: handled - measured.handled,
      stallMaxMs: stalls.max / 1e6,
    })
  } else if (message === 'drain') {
    await drain()
    process.send('ok')
  } else if (message === 'stop') {
    server.closeAllConnections()
    server.close()
    clearInterval(rssTimer)
    let stats
    let drainMs = 0
    if (telemeter) {
      drainMs = await drain()
      await telemeter.shutdown({ timeoutMs: 5_000 })
      stats = telemeter.stats()
    } else if (variant === 'countly') {
      // It sends one request per 500 ms beat; give it a few beats.
      await new Promise((resolve) => setTimeout(resolve, 3_000))
    }
    if (storagePath) rmSync(storagePath, { recursive: true, force: true })
    process.send({ handled, peakRss, stats, drainMs }, () => process.exit(0))
  }
})
