import { runInspect } from './internal/inspect.js'

const write = (line: string) => process.stdout.write(`${line}\n`)

runInspect(process.argv.slice(2), write).then(
  (inspector) => {
    if (!inspector) return
    const shutdown = () => {
      inspector.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      )
    }
    process.once('SIGINT', shutdown)
    process.once('SIGTERM', shutdown)
  },
  (error: unknown) => {
    process.stderr.write(`telemeter-inspect: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  },
)
