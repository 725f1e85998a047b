import { describe, expect, it } from 'vitest'
import { runInspect } from '../src/internal/inspect.js'
import { base, get } from './helpers.js'

describe('telemeter-inspect', () => {
  it('prints the URL, live lines and the summary on stop', async () => {
    const lines: string[] = []
    const inspector = await runInspect(
      ['--port', '0', '--app-key', 'K1', '--app-key', 'K2', '--cooldown', '0'],
      (l) => lines.push(l),
    )
    if (!inspector) throw new Error('expected an inspector')
    const { server } = inspector
    expect(lines[0]).toBe(`telemeter-inspect listening on ${server.url}  (app key K1, K2)`)
    await get(server, base('d', { app_key: 'K2', events: [{ key: 'hello' }] }))
    expect(lines.some((l) => /event\s+hello/.test(l))).toBe(true)
    await inspector.stop()
    await inspector.stop()
    const summary = lines.at(-1) ?? ''
    expect(summary).toContain('Telemeter test server')
    expect(summary).toMatch(/hello\s+x1/)
    await expect(fetch(`${server.url}/o/ping`)).rejects.toThrow()
  })

  it('prints JSON lines with --json and checks the salt', async () => {
    const lines: string[] = []
    const inspector = await runInspect(
      ['--port', '0', '--salt', 'S', '--json', '--path-prefix', '/countly'],
      (l) => lines.push(l),
    )
    if (!inspector) throw new Error('expected an inspector')
    const first = JSON.parse(lines[0] ?? '{}') as { kind: string; url: string }
    expect(first.kind).toBe('listening')
    expect(first.url).toMatch(/\/countly$/)
    await get(inspector.server, base('d'))
    const kinds = lines.slice(1).map((l) => (JSON.parse(l) as { kind: string }).kind)
    expect(kinds).toEqual(['request', 'item', 'violation', 'response'])
    await inspector.stop()
    expect(JSON.parse(lines.at(-1) ?? '{}')).toMatchObject({ kind: 'summary' })
  })

  it('prints usage with --help and rejects bad numbers', async () => {
    const lines: string[] = []
    expect(await runInspect(['--help'], (l) => lines.push(l))).toBeUndefined()
    expect(lines[0]).toContain('Usage: telemeter-inspect')
    await expect(runInspect(['--port', 'abc'], () => {})).rejects.toThrow(
      '--port must be a non-negative number',
    )
    await expect(runInspect(['--bogus'], () => {})).rejects.toThrow()
  })
})
