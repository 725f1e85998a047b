import { Readable } from 'node:stream'
import { currentScope, type Telemeter } from '@telemeter/core'
import { telemeterErrorHandler, telemeterMiddleware } from '@telemeter/express'
import express, { type NextFunction, type Request, type Response } from 'express'

interface Project {
  id: string
  name: string
  tasks: { id: number; title: string }[]
}

declare global {
  namespace Express {
    interface User {
      id: string
    }
    interface Request {
      user?: User
    }
  }
}

/** An error the client caused: 4xx, reported to the client, not a crash. */
class NotFoundError extends Error {
  readonly status = 404
}

/** Something deep in the service: it does not get `req`, yet records for the request's user. */
async function renderReport(project: Project): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 5))
  if (project.tasks.length === 0) throw new Error(`report template missing for empty project ${project.id}`)
  currentScope()?.event('report_rendered', { segmentation: { tasks: project.tasks.length } })
  return `# ${project.name}\n${project.tasks.map((task) => `- ${task.title}`).join('\n')}\n`
}

/**
 * A small project-tracking API: nested routers with a mount parameter, a
 * JSON body, an async handler that can throw, a streamed CSV download, a 404,
 * and a user taken from a header (a stand-in for real authentication).
 */
export function createApp(telemeter: Telemeter): express.Express {
  const projects = new Map<string, Project>([
    ['p-1', { id: 'p-1', name: 'Website relaunch', tasks: [{ id: 1, title: 'Draft sitemap' }] }],
    ['p-2', { id: 'p-2', name: 'Empty project', tasks: [] }],
  ])
  const app = express()
  app.set('env', 'production')
  app.use(telemeterMiddleware(telemeter))
  app.use(express.json())
  // "Authentication": runs after Telemeter, which still maps the request to req.user.id.
  app.use((req: Request, _res: Response, next: NextFunction) => {
    const user = req.get('x-user-id')
    if (user) req.user = { id: user }
    next()
  })

  app.get('/healthz', (_req: Request, res: Response) => {
    res.json({ ok: true })
  })

  const project = express.Router({ mergeParams: true })
  project.use((req: Request<{ projectId: string }>, _res: Response, next: NextFunction) => {
    next(projects.has(req.params.projectId) ? undefined : new NotFoundError('no such project'))
  })
  project.get('/', (req: Request<{ projectId: string }>, res: Response) => {
    res.json(projects.get(req.params.projectId))
  })
  project.post('/tasks', (req: Request<{ projectId: string }>, res: Response) => {
    const target = projects.get(req.params.projectId) as Project
    const task = { id: target.tasks.length + 1, title: String((req.body as { title?: unknown }).title ?? '') }
    target.tasks.push(task)
    req.telemeter.event('task_created', { segmentation: { project_size: target.tasks.length } })
    res.status(201).json(task)
  })
  project.get('/report', async (req: Request<{ projectId: string }>, res: Response, next: NextFunction) => {
    // Works on Express 4 too: async errors are passed to next() explicitly.
    try {
      res.type('text/markdown').send(await renderReport(projects.get(req.params.projectId) as Project))
    } catch (error) {
      next(error)
    }
  })
  project.get('/export.csv', (req: Request<{ projectId: string }>, res: Response) => {
    const target = projects.get(req.params.projectId) as Project
    res.type('text/csv')
    Readable.from(['id,title\n', ...target.tasks.map((task) => `${task.id},"${task.title}"\n`)]).pipe(res)
  })

  const api = express.Router({ mergeParams: true })
  api.use('/projects/:projectId', project)
  app.use('/api/:version', api)

  app.use(telemeterErrorHandler(telemeter))
  app.use((error: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(error.status ?? 500).json({ error: error.status ? error.message : 'internal error' })
  })
  return app
}
