import type { InstanceProperties } from '../types.js'
import type { TelemeterCore } from './client.js'
import { describe } from './config.js'

const TIMED_OUT = Symbol('timed out')

/**
 * Call the host's `properties()` and wait at most `timeoutMs` for it. A
 * callback that throws, rejects, answers late or answers something else than
 * an object costs that sample and one warning per cause, never an exception;
 * a late answer is ignored when it comes.
 */
export async function sampleWithin(
  core: TelemeterCore,
  callback: () => InstanceProperties | Promise<InstanceProperties>,
  timeoutMs: number,
): Promise<InstanceProperties | undefined> {
  const { logger } = core
  let timer: NodeJS.Timeout | undefined
  try {
    const result = await Promise.race([
      Promise.resolve().then(callback),
      new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs)
        timer.unref()
      }),
    ])
    if (result === TIMED_OUT) {
      logger.warnOnce(
        'instance:properties:timeout',
        `instance properties() did not answer within ${timeoutMs} ms; samples that take longer are skipped`,
      )
      return undefined
    }
    if (result === null || typeof result !== 'object' || Array.isArray(result)) {
      logger.warnOnce(
        'instance:properties:shape',
        `instance properties() must return an object of numbers, strings and booleans, got ${describe(result)}; skipped`,
      )
      return undefined
    }
    return result
  } catch (error) {
    logger.warnOnce(
      'instance:properties:threw',
      `instance properties() threw (${(error as Error)?.message ?? String(error)}); samples that throw are skipped`,
    )
    return undefined
  } finally {
    clearTimeout(timer)
  }
}
