// What both benchmark scripts share: pinning, child processes, IPC replies, labels, the RESULTS.md writer.
import { execFileSync, fork } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'

export const LABELS = {
  bare: 'bare NestJS 11 (Express)',
  telemeter: 'NestJS 11 + TelemeterModule (file queue, default)',
  'telemeter-memory': 'NestJS 11 + TelemeterModule (memory queue)',
  'telemeter-disabled': 'NestJS 11 + TelemeterModule, `disabled: true` (the module alone)',
  'bare-als': 'reference: bare NestJS 11 + every request in an AsyncLocalStorage',
  'bare-interceptor': 'reference: bare NestJS 11 + a global interceptor that does nothing',
}

/** This process (autocannon, the Countly stand-in) on core 1; the applications under test go to core 0. */
export const pinned = (() => {
  if (cpus().length < 2) return false
  try {
    execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

export function start(script, args, core) {
  const path = fileURLToPath(new URL(script, import.meta.url))
  const options = { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }
  // `taskset -c N node script`: the IPC channel survives the exec.
  if (pinned)
    return fork(path, args, {
      ...options,
      execPath: 'taskset',
      execArgv: ['-c', String(core), process.execPath],
    })
  return fork(path, args, options)
}

/** Send `message` (if any) and resolve with the child's next message. */
export function reply(child, message) {
  return new Promise((resolve, reject) => {
    const exited = (code) => reject(new Error(`${child.spawnargs.join(' ')} exited with ${code}`))
    child.once('exit', exited)
    child.once('message', (value) => {
      child.off('exit', exited)
      resolve(value)
    })
    if (message !== undefined) child.send(message)
  })
}

/**
 * Run one measurement again (up to twice, after a pause) when a child failed
 * to start: in a shared workspace a build may be replacing `dist/` right then.
 */
export async function retried(measure) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await measure()
    } catch (error) {
      if (attempt === 3) throw error
      console.warn(`  ${error.message}; again in 15 s`)
      await new Promise((resolve) => setTimeout(resolve, 15_000))
    }
  }
}

/** Replace (or append) the `<!-- name-nodeNN -->` block of a RESULTS.md with this run's table. */
export function writeResultsBlock(file, name, setup, table) {
  let previous = ''
  try {
    previous = readFileSync(file, 'utf8')
  } catch {
    // first run: a new file
  }
  const marker = `${name}-node${process.versions.node.split('.')[0]}`
  const block = `<!-- ${marker}:start -->\n${setup}\n\n${table}\n<!-- ${marker}:end -->`
  writeFileSync(
    file,
    previous.includes(`<!-- ${marker}:start -->`)
      ? previous.replace(new RegExp(`<!-- ${marker}:start -->[\\s\\S]*<!-- ${marker}:end -->`), block)
      : `${previous}\n${block}\n`,
  )
}
