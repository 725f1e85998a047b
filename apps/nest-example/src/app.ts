// A small task tracker on NestJS 11 + Express with TelemeterModule: versioned
// controllers under a global prefix, an authentication guard that maps users
// to devices, an admin guard that rejects, a validation pipe, a handler that
// fails and the application's own problem+json exception filter.
//
// Constructor parameters name their tokens with @Inject(): tsx (esbuild)
// does not emit the decorator metadata Nest would otherwise read.
import 'reflect-metadata'
import type { AddressInfo } from 'node:net'
import {
  type ArgumentsHost,
  BadRequestException,
  Body,
  type CanActivate,
  Catch,
  Controller,
  Delete,
  type ExceptionFilter,
  type ExecutionContext,
  Get,
  HttpException,
  type INestApplication,
  Inject,
  Injectable,
  Module,
  NotFoundException,
  Param,
  ParseIntPipe,
  type PipeTransform,
  Post,
  UseGuards,
  VERSION_NEUTRAL,
  VersioningType,
} from '@nestjs/common'
import { APP_FILTER, APP_GUARD, HttpAdapterHost, NestFactory } from '@nestjs/core'
import { ExpressAdapter } from '@nestjs/platform-express'
import { TelemeterModule, type TelemeterModuleOptions, TelemeterService, Traced } from '@telemeter/nest'

interface Task {
  id: number
  title: string
  owner: string | null
}

interface AppRequest {
  headers: Record<string, string | string[] | undefined>
  user?: { id: string }
}

/** `Authorization: Bearer <user id>` authenticates; the device of the request follows. */
@Injectable()
class AuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<AppRequest>()
    const match = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ''))
    if (match?.[1]) req.user = { id: match[1] }
    return true
  }
}

@Injectable()
class AdminGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToHttp().getRequest<AppRequest>().user?.id === 'admin'
  }
}

/** A ValidationPipe in miniature. */
@Injectable()
class CreateTaskPipe implements PipeTransform {
  transform(value: unknown): { title: string } {
    const title = (value as { title?: unknown } | undefined)?.title
    if (typeof title !== 'string' || title.trim().length < 3)
      throw new BadRequestException(['title must be a string of at least 3 characters'])
    return { title: title.trim() }
  }
}

/** The application's own error body (RFC 9457 problem details); Telemeter leaves it as it is. */
@Catch()
class ProblemJsonFilter implements ExceptionFilter {
  constructor(@Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp()
    const status = exception instanceof HttpException ? exception.getStatus() : 500
    const title = exception instanceof HttpException ? exception.message : 'Something went wrong'
    this.adapterHost.httpAdapter.reply(http.getResponse(), { type: 'about:blank', title, status }, status)
  }
}

@Injectable()
class TasksService {
  private readonly tasks = new Map<number, Task>([
    [1, { id: 1, title: 'Write the release notes', owner: 'ada' }],
    [2, { id: 2, title: 'Rotate the API keys', owner: null }],
  ])

  constructor(@Inject(TelemeterService) private readonly telemetry: TelemeterService) {}

  find(id: number): Task {
    const task = this.tasks.get(id)
    if (!task) throw new NotFoundException(`task ${id} does not exist`)
    return task
  }

  create(title: string, owner: string | null): Task {
    const task = { id: this.tasks.size + 1, title, owner }
    this.tasks.set(task.id, task)
    // Inside a request, the scope is the request's device (the authenticated user).
    this.telemetry.scope.event('task_created', { segmentation: { has_owner: owner !== null } })
    return task
  }

  @Traced('render_report')
  async report(id: number): Promise<string> {
    const task = this.find(id)
    await new Promise((resolve) => setTimeout(resolve, 5))
    throw new Error(`report renderer crashed on task ${task.id}`)
  }
}

@Controller({ path: 'tasks', version: '1' })
class TasksController {
  constructor(@Inject(TasksService) private readonly tasks: TasksService) {}

  @Get(':id')
  find(@Param('id', ParseIntPipe) id: number): Task {
    return this.tasks.find(id)
  }

  @Post()
  create(@Body(CreateTaskPipe) body: { title: string }): Task {
    return this.tasks.create(body.title, null)
  }

  @Get(':id/report')
  report(@Param('id', ParseIntPipe) id: number): Promise<string> {
    return this.tasks.report(id)
  }

  @Delete(':id')
  @UseGuards(AdminGuard)
  remove(@Param('id', ParseIntPipe) id: number): { deleted: number } {
    return { deleted: id }
  }
}

@Controller({ path: 'health', version: VERSION_NEUTRAL })
class HealthController {
  @Get()
  check(): { ok: true } {
    return { ok: true }
  }
}

export interface RunningExample {
  readonly app: INestApplication
  readonly url: string
}

/**
 * Boot the tracker on an ephemeral 127.0.0.1 port. A service of its own would
 * also pass `shutdownHooks: true` (`app.enableShutdownHooks()`), so SIGTERM
 * closes the application and TelemeterModule flushes on the way out.
 */
export async function startExample(
  telemeter: TelemeterModuleOptions,
  options: { shutdownHooks?: boolean } = {},
): Promise<RunningExample> {
  @Module({
    imports: [TelemeterModule.forRoot(telemeter)],
    controllers: [TasksController, HealthController],
    providers: [
      TasksService,
      { provide: APP_GUARD, useClass: AuthGuard },
      { provide: APP_FILTER, useClass: ProblemJsonFilter },
    ],
  })
  class AppModule {}

  const app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: false })
  app.setGlobalPrefix('api', { exclude: ['health'] })
  app.enableVersioning({ type: VersioningType.URI })
  if (options.shutdownHooks) app.enableShutdownHooks()
  await app.listen(0, '127.0.0.1')
  const { port } = app.getHttpServer().address() as AddressInfo
  return { app, url: `http://127.0.0.1:${port}` }
}
