// The Nest application under load (NestJS 11 + Express), one variant per
// process: `bare`; `telemeter` (TelemeterModule.forRoot with core's defaults:
// file queue), `telemeter-memory`, `telemeter-disabled` (`disabled: true`:
// the module runs, nothing is queued); and two references for what Nest
// features cost by themselves: `bare-als` (every request in an
// AsyncLocalStorage, as core's request context needs) and `bare-interceptor`
// (a global interceptor that does nothing). Plain JavaScript, decorators
// applied as calls, so it runs on the build with nothing in between. IPC with
// the runner: sends { port } when listening; 'measure-start' / 'measure-stop'
// bracket the measured run (CPU time per request); on 'stop' closes the app
// (the module flushes what is queued) and answers { handled, peakRssMb, stats }.
import 'reflect-metadata'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Controller, Get, Module, Param } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { ExpressAdapter } from '@nestjs/platform-express'

const [variant, url, appKey] = process.argv.slice(2)
let handled = 0

class UsersController {
  findOne(id) {
    handled++
    return { id, name: `user ${id}`, plan: 'pro' }
  }
}
Controller('users')(UsersController)
const findOne = Object.getOwnPropertyDescriptor(UsersController.prototype, 'findOne')
Get(':id')(UsersController.prototype, 'findOne', findOne)
Param('id')(UsersController.prototype, 'findOne', 0)

const imports = []
const providers = []
let entryMiddleware
let telemeterToken
let storagePath
if (variant.startsWith('telemeter')) {
  const { TelemeterModule, TELEMETER } = await import('@telemeter/nest')
  telemeterToken = TELEMETER
  storagePath = mkdtempSync(join(tmpdir(), 'telemeter-nest-bench-'))
  imports.push(
    TelemeterModule.forRoot({
      url,
      appKey,
      deviceId: 'bench-server',
      storagePath,
      storage: variant === 'telemeter-memory' ? 'memory' : 'file',
      // The adapter's own cost: everything runs, nothing is queued.
      disabled: variant === 'telemeter-disabled',
      shutdownTimeoutMs: 30_000,
    }),
  )
} else if (variant === 'bare-als') {
  // What core's request context costs on its own: every request run in an AsyncLocalStorage.
  const { AsyncLocalStorage } = await import('node:async_hooks')
  const storage = new AsyncLocalStorage()
  entryMiddleware = (req, _res, next) => storage.run(req, next)
} else if (variant === 'bare-interceptor') {
  // What any global interceptor costs in Nest (for comparison): one that does nothing.
  const { APP_INTERCEPTOR } = await import('@nestjs/core')
  class NoopInterceptor {
    intercept(_context, next) {
      return next.handle()
    }
  }
  providers.push({ provide: APP_INTERCEPTOR, useClass: NoopInterceptor })
} else if (variant !== 'bare') {
  throw new Error(`unknown variant ${variant}`)
}
class AppModule {}
Module({ imports, providers, controllers: [UsersController] })(AppModule)

const app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: false })
if (entryMiddleware) app.use(entryMiddleware)
await app.listen(0, '127.0.0.1')

let peakRss = process.memoryUsage.rss()
const rssTimer = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss())
}, 100)

process.send({ port: app.getHttpServer().address().port })
let measuring
process.on('message', async (message) => {
  // CPU time per request over the measured run: unlike req/s, it hardly depends on other load on the machine.
  if (message === 'measure-start') {
    measuring = { cpu: process.cpuUsage(), handled }
    return process.send('ok')
  }
  if (message === 'measure-stop') {
    const cpu = process.cpuUsage(measuring.cpu)
    return process.send({ cpuUsPerRequest: (cpu.user + cpu.system) / (handled - measuring.handled) })
  }
  if (message !== 'stop') return
  clearInterval(rssTimer)
  const telemeter = telemeterToken ? app.get(telemeterToken) : undefined
  await app.close()
  const stats = telemeter?.stats()
  if (storagePath) rmSync(storagePath, { recursive: true, force: true })
  process.send({ handled, peakRssMb: peakRss / 1024 / 1024, stats }, () => process.exit(0))
})
