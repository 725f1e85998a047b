/**
 * A small but realistic Nest application, built from the Nest packages a
 * suite passes in: versioned controllers under a global prefix, middleware,
 * guards (one rejects, one authenticates), pipes, user exception filters, a
 * streamed download and a `@Traced()` service. Parameters use explicit
 * `@Inject()` tokens: the test transform emits no decorator metadata.
 */
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type { INestApplication } from '@nestjs/common'
import type { TelemeterModuleOptions } from '../src/index.js'
import type { NestModules, Platform } from './nest-modules.js'

/**
 * Which catch-all exception filter the application has: none, one bound with
 * `app.useGlobalFilters()` (plain, or with `@CaptureExceptions()` on its
 * `catch`), or one provided as `APP_FILTER` in the root module.
 */
export type FilterSetup = 'none' | 'global' | 'global-captured' | 'provider'

export interface AppOptions {
  platform: Platform
  /** `TelemeterModule.forRoot()` options; without them the app runs bare (the baseline). */
  telemeter?: TelemeterModuleOptions
  filters?: FilterSetup
}

export interface RunningApp {
  readonly app: INestApplication
  readonly url: string
  close(): Promise<void>
}

// biome-ignore lint/suspicious/noExplicitAny: Nest passes loosely typed arguments to these classes
type Any = any

export function createFixture(nest: NestModules) {
  const c = nest.common
  const { HttpAdapterHost } = nest.core
  const { CaptureExceptions, TelemeterService, Traced } = nest.telemeter

  function delayOf(req: Any, header: string): number {
    return Number(req.headers[header] ?? 0)
  }

  @c.Injectable()
  class DelayMiddleware {
    async use(req: Any, _res: Any, next: (error?: unknown) => void) {
      const delay = delayOf(req, 'x-middleware-delay')
      if (delay > 0) await sleep(delay)
      if (req.headers['x-middleware-boom']) throw new Error('middleware exploded')
      next()
    }
  }

  /** Authenticates `Authorization: Bearer <user id>`; never rejects. */
  @c.Injectable()
  class AuthGuard {
    canActivate(context: Any) {
      const req = context.switchToHttp().getRequest()
      const match = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))
      if (match) req.user = { id: match[1] }
      return true
    }
  }

  @c.Injectable()
  class AdminGuard {
    async canActivate(context: Any) {
      const delay = delayOf(context.switchToHttp().getRequest(), 'x-guard-delay')
      if (delay > 0) await sleep(delay)
      return false
    }
  }

  @c.Injectable()
  class ExplodingGuard {
    canActivate(): boolean {
      throw new TypeError('guard exploded')
    }
  }

  /** A ValidationPipe in miniature. */
  @c.Injectable()
  class CreateUserPipe {
    transform(value: Any) {
      if (typeof value?.name !== 'string' || value.name === '')
        throw new c.BadRequestException(['name must be a non-empty string'])
      return value
    }
  }

  @c.Catch(c.ConflictException)
  class ConflictFilter {
    constructor(@c.Inject(HttpAdapterHost) private readonly host: Any) {}
    catch(exception: Any, host: Any) {
      const http = host.switchToHttp()
      this.host.httpAdapter.reply(http.getResponse(), { code: 'CONFLICT', detail: exception.message }, 409)
    }
  }

  /** The kind of catch-all filter many applications have. */
  @c.Catch()
  class CatchAllFilter {
    constructor(@c.Inject(HttpAdapterHost) private readonly host: Any) {}
    catch(exception: Any, host: Any) {
      const http = host.switchToHttp()
      const status = exception instanceof c.HttpException ? exception.getStatus() : 503
      this.host.httpAdapter.reply(
        http.getResponse(),
        { handled: true, status, path: http.getRequest().url },
        status,
      )
    }
  }

  @c.Catch()
  class CapturingCatchAllFilter extends CatchAllFilter {
    @CaptureExceptions()
    override catch(exception: Any, host: Any) {
      super.catch(exception, host)
    }
  }

  @c.Injectable()
  class UsersService {
    @Traced('load_user')
    async load(id: number) {
      await sleep(1)
      return { id, name: `user ${id}` }
    }

    @Traced()
    normalize(name: string) {
      if (name === '') throw new RangeError('empty name')
      return name.trim()
    }
  }

  @c.Controller({ path: 'users', version: '1' })
  @c.UseGuards(AuthGuard)
  class UsersController {
    constructor(
      @c.Inject(UsersService) private readonly users: UsersService,
      @c.Optional()
      @c.Inject(TelemeterService)
      private readonly telemetry?: InstanceType<typeof TelemeterService>,
    ) {}

    @c.Get('export')
    export() {
      const chunks = [Buffer.alloc(1000, 'a'), Buffer.alloc(2000, 'b'), Buffer.alloc(500, 'c')]
      return new c.StreamableFile(Readable.from(chunks), { type: 'text/plain' })
    }

    @c.Get('admin')
    @c.UseGuards(AdminGuard)
    admin() {
      return { secret: true }
    }

    @c.Get(':id')
    findOne(@c.Param('id', c.ParseIntPipe) id: number) {
      return this.users.load(id)
    }

    @c.Get(':id/whoami')
    whoami(@c.Req() req: Any) {
      const scope = this.telemetry?.scope
      return { user: req.user?.id ?? null, scope: scope?.deviceId ?? null }
    }

    @c.Post(':id/whoami')
    whoamiWithBody(@c.Req() req: Any) {
      return this.whoami(req)
    }

    @c.Get(':id/boom')
    boom(): never {
      throw new Error('handler exploded')
    }

    @c.Get(':id/guarded')
    @c.UseGuards(ExplodingGuard)
    guarded() {
      return { unreachable: true }
    }

    @c.Get(':id/conflict')
    @c.UseFilters(ConflictFilter)
    conflict(): never {
      throw new c.ConflictException('name taken')
    }

    @c.Get(':id/teapot')
    teapot(): never {
      throw new c.HttpException('short and stout', 418)
    }

    @c.Post()
    create(@c.Body(CreateUserPipe) body: { name: string }) {
      return { id: 7, name: this.users.normalize(body.name) }
    }
  }

  @c.Controller({ path: 'health', version: c.VERSION_NEUTRAL })
  class HealthController {
    @c.Get()
    check() {
      return { ok: true }
    }
  }

  async function start(options: AppOptions): Promise<RunningApp> {
    const filters = options.filters ?? 'none'
    const providers: Any[] = [UsersService]
    if (filters === 'provider') providers.push({ provide: nest.core.APP_FILTER, useClass: CatchAllFilter })
    class AppModule {
      configure(consumer: Any) {
        consumer.apply(DelayMiddleware).forRoutes(UsersController)
      }
    }
    c.Module({
      imports: options.telemeter ? [nest.telemeter.TelemeterModule.forRoot(options.telemeter)] : [],
      controllers: [UsersController, HealthController],
      providers,
    })(AppModule)
    const moduleRef = await nest.testing.Test.createTestingModule({ imports: [AppModule] }).compile()
    const adapter =
      options.platform === 'fastify'
        ? new nest.platformFastify.FastifyAdapter()
        : new nest.platformExpress.ExpressAdapter()
    const app = moduleRef.createNestApplication(adapter as Any, { logger: false }) as INestApplication
    app.setGlobalPrefix('api', { exclude: ['health'] })
    app.enableVersioning({ type: c.VersioningType.URI })
    if (filters === 'global') app.useGlobalFilters(new CatchAllFilter(app.get(HttpAdapterHost)))
    if (filters === 'global-captured')
      app.useGlobalFilters(new CapturingCatchAllFilter(app.get(HttpAdapterHost)))
    await app.listen(0, '127.0.0.1')
    const { port } = app.getHttpServer().address() as AddressInfo
    return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() }
  }

  return { start, UsersService }
}
