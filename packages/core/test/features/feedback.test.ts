import { describe, expect, it } from 'vitest'
import type { DeviceScope, Telemeter } from '../../src/index.js'
import { setup } from '../helpers.js'

describe.each([
  ['the Telemeter', (telemeter: Telemeter) => telemeter as DeviceScope, 'own'],
  ['a forDevice scope', (telemeter: Telemeter) => telemeter.forDevice('user-1'), 'user-1'],
])('feedback on %s', (_label, scopeOf, deviceId) => {
  it('sends [CLY]_star_rating with every field', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own', appVersion: '1.4.2' })
    const scope = scopeOf(telemeter)
    scope.recordRating({
      rating: 5,
      widgetId: 'w-export',
      comment: 'Great export',
      email: 'ada@example.com',
      contactMe: true,
    })
    scope.recordRating({ rating: 1 })
    await telemeter.flush()

    const ratings = server.events({ key: '[CLY]_star_rating', deviceId })
    expect(ratings.map((r) => [r.name, r.count, r.segmentation])).toEqual([
      [
        'w-export',
        1,
        {
          rating: 5,
          widget_id: 'w-export',
          comment: 'Great export',
          email: 'ada@example.com',
          contactMe: true,
          platform: 'Linux',
          app_version: '1.4.2',
          ratingSum: 5,
          platform_version_rate: 'Linux**1.4.2**5**w-export',
        },
      ],
      [
        undefined,
        1,
        {
          rating: 1,
          platform: 'Linux',
          app_version: '1.4.2',
          ratingSum: 1,
          platform_version_rate: 'Linux**1.4.2**1**undefined',
        },
      ],
    ])
    expect(server.violations).toEqual([])
  })

  it('refuses ratings outside 1-5 and bad fields with a warning, never an exception', async () => {
    const { server, telemeter, logger } = await setup({ deviceId: 'own' })
    const scope = scopeOf(telemeter)
    for (const rating of [0, 6, 4.5, Number.NaN, '5', null, undefined]) {
      expect(() => scope.recordRating({ rating } as never)).not.toThrow()
    }
    expect(() => scope.recordRating(null as never)).not.toThrow()
    scope.recordRating({ rating: 3, comment: '', email: 42, contactMe: 'yes', widgetId: {} } as never)
    await telemeter.flush()
    expect(server.events({ key: '[CLY]_star_rating', deviceId }).map((r) => r.segmentation.rating)).toEqual([
      3,
    ])
    expect(server.events({ key: '[CLY]_star_rating', deviceId })[0]!.segmentation).not.toHaveProperty('email')
    expect(logger.warnings().join('\n')).toContain('rating must be an integer from 1 to 5')
    expect(logger.warnings().join('\n')).toContain('recordRating needs an object')
    expect(server.violations).toEqual([])
  })

  it('needs star-rating consent when consent is required', async () => {
    const { server, telemeter } = await setup({ deviceId: 'own', requireConsent: true })
    await telemeter.flush()
    const scope = scopeOf(telemeter)
    scope.recordRating({ rating: 4 })
    scope.giveConsent('feedback')
    scope.recordRating({ rating: 4 })
    scope.giveConsent('star-rating')
    scope.recordRating({ rating: 2 })
    await telemeter.flush()
    expect(server.events({ key: '[CLY]_star_rating', deviceId }).map((r) => r.segmentation.rating)).toEqual([
      2,
    ])
    expect(server.violations).toEqual([])
  })
})
