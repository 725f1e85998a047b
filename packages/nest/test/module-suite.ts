/**
 * Module scenarios: `forRootAsync`, a Telemeter passed in, `TelemeterService`
 * and `@InjectTelemeter()` outside requests, `@Traced()`, the shutdown hook and
 * non-HTTP handler contexts. Written once for NestJS 11 and 12.
 */
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { INestApplication } from '@nestjs/common'
import { createTelemeter, type Logger, type Telemeter } from '@telemeter/core'
import { startTestServer, type TestServer } from '@telemeter/testkit'
import { catchError, lastValueFrom, of, toArray } from 'rxjs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { NestModules } from './nest-modules.js'

const APP_KEY = 'NEST_MODULE_APP'

// biome-ignore lint/suspicious/noExplicitAny: Nest passes loosely typed arguments to these classes
type Any = any
type Callback = (...args: unknown[]) => unknown

function collectingLogger(warnings: string[]): Logger {
  const ignore = () => {}
  return { debug: ignore, info: ignore, warn: (message: string) => warnings.push(message), error: ignore }
}

export function describeModule(nest: NestModules): void {
  const c = nest.common
  const { TelemeterModule, TelemeterService, InjectTelemeter, TELEMETER, Traced } = nest.telemeter

  class AppConfig {
    constructor(private readonly values: Record<string, string>) {}
    get(key: string): string {
      return this.values[key] ?? ''
    }
  }

  @c.Injectable()
  class Jobs {
    constructor(@InjectTelemeter() readonly telemeter: Telemeter) {}

    @Traced('sync_job')
    double(value: number) {
      return value * 2
    }

    @Traced('async_job')
    async run() {
      await sleep(40)
      return 'done'
    }

    @Traced('failing_job')
    async fail(): Promise<never> {
      await sleep(1)
      throw new Error('job failed')
    }

    @Traced('throwing_job')
    explode(): never {
      throw new RangeError('nope')
    }

    @Traced('stream_job')
    stream() {
      return of(1, 2, 3)
    }

    @Traced('bad name!')
    oddlyNamed() {
      return 'odd'
    }

    @Traced()
    defaulted() {
      return 'default'
    }
  }

  @c.Controller('jobs')
  class JobsController {
    @Traced('list_jobs')
    @c.Get()
    list() {
      return ['a']
    }

    @c.Get('other')
    @Traced('other_jobs')
    other() {
      return ['b']
    }
  }

  /** In a module that does not import TelemeterModule (with isGlobal: false). */
  @c.Injectable()
  class Isolated {
    @Traced('isolated_job')
    work() {
      return 'worked'
    }
  }

  @c.Controller('flaky')
  class FlakyController {
    @c.Get()
    flaky(): never {
      throw new Error('flaky dependency')
    }
  }

  /** Provided in the root module, so it wraps Telemeter's interceptor: it sees the error after Telemeter did. */
  @c.Injectable()
  class RecoveringInterceptor {
    intercept(context: Any, next: Any) {
      const recover = context.switchToHttp().getRequest().headers['x-recover'] === '1'
      return recover ? next.handle().pipe(catchError(() => of({ recovered: true }))) : next.handle()
    }
  }

  /** Handlers as microservices, gateways and GraphQL resolvers declare them. */
  class Handlers {
    sum(data: { a: number; b: number }) {
      return data.a + data.b
    }
    created() {
      return undefined
    }
    message(_client: unknown, data: string) {
      return data.toUpperCase()
    }
    users() {
      return [{ id: 1 }]
    }
    fail(): never {
      throw new Error('rpc failed')
    }
  }
  c.SetMetadata('microservices:pattern', [{ cmd: 'sum' }])(Handlers.prototype, 'sum', {
    value: Handlers.prototype.sum,
  })
  c.SetMetadata('microservices:pattern', ['user.created'])(Handlers.prototype, 'created', {
    value: Handlers.prototype.created,
  })
  c.SetMetadata('message', 'chat:message')(Handlers.prototype, 'message', {
    value: Handlers.prototype.message,
  })

  let server: TestServer
  let app: INestApplication | undefined
  const warnings: string[] = []

  async function boot(
    telemeterModule: Any,
    extra: { providers?: Any[]; controllers?: Any[]; imports?: Any[] } = {},
  ) {
    class AppModule {}
    c.Module({
      imports: [telemeterModule, ...(extra.imports ?? [])],
      providers: [Jobs, Handlers, ...(extra.providers ?? [])],
      controllers: extra.controllers ?? [],
    })(AppModule)
    const moduleRef = await nest.testing.Test.createTestingModule({ imports: [AppModule] }).compile()
    app = moduleRef.createNestApplication(new nest.platformExpress.ExpressAdapter() as Any, {
      logger: false,
    }) as INestApplication
    await app.listen(0, '127.0.0.1')
    const { port } = app.getHttpServer().address() as AddressInfo
    return { app, url: `http://127.0.0.1:${port}` }
  }

  const config = () => ({
    url: server.url,
    appKey: APP_KEY,
    storage: 'memory' as const,
    flushIntervalMs: 20,
    debug: collectingLogger(warnings),
  })

  describe(`${nest.label} TelemeterModule`, () => {
    beforeAll(async () => {
      server = await startTestServer({ appKey: APP_KEY })
    })
    afterEach(async () => {
      await app?.close()
      app = undefined
      expect(server.violations).toEqual([])
      server.reset()
      warnings.length = 0
    })
    afterAll(async () => {
      await server.close()
    })

    it('forRootAsync takes its options from injected configuration', async () => {
      class ConfigModule {}
      const values = { url: server.url, appKey: APP_KEY }
      c.Module({
        providers: [{ provide: AppConfig, useValue: new AppConfig(values) }],
        exports: [AppConfig],
      })(ConfigModule)
      const { url } = await boot(
        TelemeterModule.forRootAsync({
          imports: [ConfigModule],
          inject: [AppConfig],
          useFactory: (appConfig: AppConfig) => ({
            url: appConfig.get('url'),
            appKey: appConfig.get('appKey'),
            storage: 'memory',
            flushIntervalMs: 20,
            deviceId: (req) => req.headers['x-tenant'] as string | undefined,
          }),
        }),
        { controllers: [JobsController] },
      )
      expect((await fetch(`${url}/jobs`, { headers: { 'x-tenant': 'tenant-9' } })).status).toBe(200)
      await server.waitFor((s) => s.traces({ deviceId: 'tenant-9', name: 'GET /jobs' }).length === 1)
      expect(server.user('tenant-9')?.sc).toBe(1)
    })

    it('records through a Telemeter passed in and leaves its lifecycle alone', async () => {
      const telemeter = createTelemeter({ ...config(), appVersion: '3.1.0' })
      const { app, url } = await boot(
        TelemeterModule.forRoot({ telemeter, sessions: false, ...({ deviceId: 'ignored' } as object) }),
      )
      expect(app.get(TELEMETER)).toBe(telemeter)
      expect(app.get(TelemeterService).telemeter).toBe(telemeter)
      expect(warnings.some((w) => w.includes('deviceId ignored'))).toBe(true)
      await fetch(`${url}/nowhere`, { headers: { 'x-device-id': 'passed-in' } })
      await server.waitFor((s) => s.traces({ deviceId: 'passed-in', name: 'GET unknown route' }).length === 1)
      expect(server.user('passed-in')?.sc ?? 0).toBe(0)
      await app.close()
      telemeter.event('after_close')
      await telemeter.flush()
      expect(server.events({ key: 'after_close' })).toHaveLength(1)
      await telemeter.shutdown()
    })

    it('gives the instance scope outside requests, through TelemeterService and @InjectTelemeter()', async () => {
      const { app } = await boot(TelemeterModule.forRoot(config()))
      const telemeter = app.get<Telemeter>(TELEMETER)
      expect(app.get(TelemeterService).scope).toBe(telemeter)
      expect(app.get(Jobs).telemeter).toBe(telemeter)
    })

    it('@Traced reports sync, async, failing and Observable methods, and errors still propagate', async () => {
      const { app } = await boot(TelemeterModule.forRoot(config()))
      const jobs = app.get(Jobs)
      const self = app.get<Telemeter>(TELEMETER).deviceId
      expect(jobs.double(21)).toBe(42)
      expect(await jobs.run()).toBe('done')
      await expect(jobs.fail()).rejects.toThrow('job failed')
      expect(() => jobs.explode()).toThrow(RangeError)
      expect(await lastValueFrom(jobs.stream().pipe(toArray()))).toEqual([1, 2, 3])
      expect(jobs.oddlyNamed()).toBe('odd')
      expect(jobs.defaulted()).toBe('default')
      const names = [
        'sync_job',
        'async_job',
        'failing_job',
        'throwing_job',
        'stream_job',
        'bad_name',
        'Jobs_defaulted',
      ]
      await server.waitFor((s) => names.every((name) => s.traces({ deviceId: self, name }).length === 1))
      for (const name of names) expect(server.traces({ deviceId: self, name })[0]?.type).toBe('device')
      expect(
        server.traces({ deviceId: self, name: 'async_job' })[0]?.metrics.duration,
      ).toBeGreaterThanOrEqual(30)
      expect(warnings.filter((w) => w.includes('@Traced("bad name!")'))).toHaveLength(1)
    })

    it('@Traced in a module without TelemeterModule boots and runs, untraced outside requests', async () => {
      class IsolatedModule {}
      c.Module({ providers: [Isolated], exports: [Isolated] })(IsolatedModule)
      const { app } = await boot(TelemeterModule.forRoot({ ...config(), isGlobal: false }), {
        imports: [IsolatedModule],
      })
      expect(app.get(Isolated).work()).toBe('worked')
      const telemeter = app.get<Telemeter>(TELEMETER)
      telemeter.event('marker')
      await server.waitFor((s) => s.events({ key: 'marker' }).length === 1)
      expect(server.traces({ name: 'isolated_job' })).toEqual([])
    })

    it('@Traced keeps the route metadata of decorators on either side', async () => {
      const { url } = await boot(TelemeterModule.forRoot(config()), { controllers: [JobsController] })
      const headers = { 'x-device-id': 'traced-routes' }
      expect(await (await fetch(`${url}/jobs`, { headers })).json()).toEqual(['a'])
      expect(await (await fetch(`${url}/jobs/other`, { headers })).json()).toEqual(['b'])
      const wanted = ['GET /jobs', 'GET /jobs/other', 'list_jobs', 'other_jobs']
      await server.waitFor((s) =>
        wanted.every((name) => s.traces({ deviceId: 'traced-routes', name }).length === 1),
      )
    })

    it('does not report an error an outer interceptor recovered from', async () => {
      const { url } = await boot(TelemeterModule.forRoot(config()), {
        controllers: [FlakyController],
        providers: [{ provide: nest.core.APP_INTERCEPTOR, useClass: RecoveringInterceptor }],
      })
      const recovered = await fetch(`${url}/flaky`, {
        headers: { 'x-device-id': 'recovering', 'x-recover': '1' },
      })
      expect(await recovered.json()).toEqual({ recovered: true })
      expect((await fetch(`${url}/flaky`, { headers: { 'x-device-id': 'failing' } })).status).toBe(500)
      await server.waitFor((s) => s.crashes('failing').length === 1)
      await server.waitFor((s) => s.traces({ deviceId: 'recovering', name: 'GET /flaky' }).length === 1)
      expect(server.traces({ deviceId: 'recovering' })[0]?.metrics.response_code).toBe(200)
      expect(server.crashes('recovering')).toEqual([])
    })

    it('flushes and shuts down the Telemeter it created when the application closes', async () => {
      const { app } = await boot(TelemeterModule.forRoot({ ...config(), flushIntervalMs: 60_000 }))
      const telemeter = app.get<Telemeter>(TELEMETER)
      app.get(TelemeterService).scope.event('before_close', { segmentation: { step: 'last' } })
      await app.close()
      expect(server.events({ key: 'before_close' })).toHaveLength(1)
      expect(telemeter.stats().queued).toBe(0)
    })

    it('traceNonHttp: a custom trace per microservice, WebSocket and GraphQL handler call, results unchanged', async () => {
      const { app } = await boot(TelemeterModule.forRoot({ ...config(), traceNonHttp: true }))
      const handlers = app.get(Handlers)
      const contexts = app.get(nest.core.ExternalContextCreator)
      const handler = (name: keyof Handlers, type: string) =>
        contexts.create(
          handlers,
          handlers[name] as Callback,
          name,
          undefined,
          undefined,
          undefined,
          undefined,
          undefined,
          type,
        )
      expect(await handler('sum', 'rpc')({ a: 2, b: 3 })).toBe(5)
      expect(await handler('created', 'rpc')({ id: 1 })).toBeUndefined()
      expect(await handler('message', 'ws')({}, 'hi')).toBe('HI')
      const info = { parentType: { name: 'Query' }, fieldName: 'users' }
      expect(await handler('users', 'graphql')(undefined, {}, {}, info)).toEqual([{ id: 1 }])
      await expect(handler('fail', 'rpc')({})).rejects.toThrow('rpc failed')
      const self = app.get<Telemeter>(TELEMETER).deviceId
      const names = [
        'rpc_cmd_sum',
        'rpc_user_created',
        'ws_chat_message',
        'gql_Query_users',
        'rpc_Handlers_fail',
      ]
      await server.waitFor((s) => names.every((name) => s.traces({ deviceId: self, name }).length === 1))
      expect(server.crashes()).toEqual([])
    })

    it('leaves non-HTTP handlers untraced by default', async () => {
      const { app } = await boot(TelemeterModule.forRoot(config()))
      const handlers = app.get(Handlers)
      const contexts = app.get(nest.core.ExternalContextCreator)
      const sum = contexts.create(
        handlers,
        handlers.sum as Callback,
        'sum',
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        'rpc',
      )
      expect(await sum({ a: 1, b: 1 })).toBe(2)
      const telemeter = app.get<Telemeter>(TELEMETER)
      telemeter.event('marker')
      await telemeter.flush()
      await server.waitFor((s) => s.events({ key: 'marker' }).length === 1)
      expect(server.traces({ name: 'rpc_cmd_sum' })).toEqual([])
    })
  })
}
