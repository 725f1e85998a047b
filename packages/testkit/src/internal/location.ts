import type { ItemContext } from './context.js'
import { stringParam } from './params.js'
import { describe, isTruthyParam } from './values.js'

/**
 * `location`, `country_code`, `city`, `region` (PROTOCOL §2.7). An empty
 * `location` together with `begin_session` opts the user out of location;
 * without `begin_session` the server ignores it.
 */
export function processLocation(ctx: ItemContext): void {
  const doc = ctx.user.doc
  const params = ctx.params
  const countryCode = stringParam(params, 'country_code')
  const city = stringParam(params, 'city')
  const region = stringParam(params, 'region')
  if (countryCode) doc.country_code = countryCode
  if (city) doc.city = city
  if (region) doc.region = region
  if (params.location === undefined) return
  const location = stringParam(params, 'location') ?? ''
  if (location === '') {
    if (isTruthyParam(params.begin_session)) {
      doc.location = undefined
      doc.country_code = 'Unknown'
      doc.city = 'Unknown'
      doc.region = 'Unknown'
    } else {
      ctx.violate('invalid-location', 'an empty location opts out only together with begin_session; ignored')
    }
    return
  }
  const parts = location.split(',')
  const lat = Number.parseFloat(parts[0] ?? '')
  const lng = Number.parseFloat(parts[1] ?? '')
  if (
    parts.length !== 2 ||
    Number.isNaN(lat) ||
    Number.isNaN(lng) ||
    Math.abs(lat) > 90 ||
    Math.abs(lng) > 180
  ) {
    ctx.violate('invalid-location', `location must be "lat,lng", got ${describe(params.location)}; ignored`)
    return
  }
  doc.location = { lat, lng }
}
