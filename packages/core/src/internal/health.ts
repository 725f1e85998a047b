import type { TelemeterCore } from './client.js'

const HEALTH_INTERVAL_MS = 60 * 60_000
const MAX_MESSAGE = 1_000

/**
 * SDK health for the server's "SDK health" view (PROTOCOL §2.8 `hc`): error
 * and warning counts, the last HTTP status and the last error message. Sent
 * at most hourly when something changed, and at shutdown.
 */
export class Health {
  private errors = 0
  private warnings = 0
  private lastStatus = 0
  private lastError = ''
  private changed = false

  recordWarning(): void {
    this.warnings++
    this.changed = true
  }

  recordError(message: string): void {
    this.errors++
    this.lastError = message.slice(0, MAX_MESSAGE)
    this.changed = true
  }

  recordStatus(status: number): void {
    if (status === this.lastStatus) return
    this.lastStatus = status
    this.changed = true
  }

  /** Queue an `hc` request for the instance's device if anything changed since the last one. */
  report(core: TelemeterCore): void {
    if (!this.changed || core.gate.refusal('internal')) return
    // With consent required, nothing at all is sent for a device that has given none.
    if (core.gate.requireConsent && !core.self.consent?.size) return
    this.changed = false
    core.enqueue(
      core.self,
      'internal',
      { hc: { el: this.errors, wl: this.warnings, sc: this.lastStatus, em: this.lastError } },
      0,
    )
  }

  start(core: TelemeterCore): void {
    core.addTimer(() => this.report(core), HEALTH_INTERVAL_MS)
  }
}
