import { describe, expect, it } from 'vitest'
import { routeTemplate } from './route.js'

const route = (path: unknown, methods: string[]) => ({ path, methods })
const middleware = (path: string) => ({ path, methods: [] })

describe('routeTemplate', () => {
  it('is undefined when no router took the request', () => {
    expect(routeTemplate({ method: 'GET' })).toBeUndefined()
    expect(routeTemplate({ method: 'GET', matched: [] })).toBeUndefined()
  })

  it('takes ctx._matchedRoute when it is a route layer’s path', () => {
    const matched = [middleware('/api{/*rest}'), route('/api/users/:id', ['HEAD', 'GET'])]
    expect(routeTemplate({ method: 'GET', _matchedRoute: '/api/users/:id', matched })).toBe('/api/users/:id')
  })

  it('keeps the route that ran when two routes match the path', () => {
    const matched = [route('/users/me', ['GET']), route('/users/:id', ['GET'])]
    expect(routeTemplate({ method: 'GET', _matchedRoute: '/users/me', matched })).toBe('/users/me')
  })

  it('replaces a router middleware’s path with the route the router picked for the method', () => {
    const matched = [
      middleware('/api{/*rest}'),
      route('/api/users/:id', ['POST']),
      route('/api/users/:id', ['HEAD', 'GET']),
      route('/api/users/:id/avatar', ['GET']),
    ]
    expect(routeTemplate({ method: 'POST', _matchedRoute: '/api{/*rest}', matched })).toBe('/api/users/:id')
  })

  it('is undefined when the path matched but no route takes the method (405)', () => {
    expect(routeTemplate({ method: 'PUT', matched: [route('/things', ['POST'])] })).toBeUndefined()
  })

  it('accepts templates from other routers and RegExp paths', () => {
    expect(routeTemplate({ method: 'GET', _matchedRoute: '/legacy/:id' })).toBe('/legacy/:id')
    expect(routeTemplate({ method: 'GET', _matchedRoute: /^\/files\/(.*)$/ })).toBe('/^\\/files\\/(.*)$/')
    expect(routeTemplate({ method: 'GET', _matchedRoute: '' })).toBe('/')
    expect(routeTemplate({ method: 'GET', _matchedRoute: 42, matched: [null, 7] })).toBeUndefined()
  })
})
