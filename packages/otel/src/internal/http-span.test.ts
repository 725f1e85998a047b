import { describe, expect, it } from 'vitest'
import { httpFactsOf, httpMethodOf, templatePath } from './http-span.js'

describe('templatePath', () => {
  it.each([
    ['/users/42', '/users/:id'],
    ['/users/42/orders/7', '/users/:id/orders/:id'],
    ['/files/6f1c2b7e-8a4d-4c1e-9b3a-2d5e6f7a8b9c', '/files/:id'],
    ['/objects/507f1f77bcf86cd799439011/raw', '/objects/:id/raw'],
    ['/commits/a94a8fe5ccb19ba61c4c0873d391e987982fbbd3', '/commits/:id'],
    ['/v2/users', '/v2/users'],
    ['/blog/2fa-setup', '/blog/2fa-setup'],
    ['/decade/facade', '/decade/facade'],
    ['/', '/'],
    ['', ''],
  ])('%s -> %s', (path, template) => {
    expect(templatePath(path)).toBe(template)
  })
})

describe('httpMethodOf', () => {
  it('reads both vocabularies and the original of an _OTHER method', () => {
    expect(httpMethodOf({ 'http.request.method': 'GET' })).toBe('GET')
    expect(httpMethodOf({ 'http.method': 'post' })).toBe('POST')
    expect(httpMethodOf({ 'http.request.method': '_OTHER', 'http.request.method_original': 'purge' })).toBe(
      'PURGE',
    )
    expect(httpMethodOf({ 'db.system': 'redis' })).toBeUndefined()
    expect(httpMethodOf({ 'http.request.method': 42 })).toBeUndefined()
  })
})

describe('httpFactsOf', () => {
  it('reads the stable vocabulary', () => {
    const facts = httpFactsOf(
      {
        'http.request.method': 'POST',
        'http.route': '/carts/:id',
        'url.full': 'https://shop.example.com:8443/carts/9?x=1',
        'url.path': '/carts/9',
        'server.address': 'shop.example.com',
        'server.port': 8443,
        'http.response.status_code': 201,
        'http.request.body.size': 120,
        'http.response.body.size': 48,
        'http.request.header.x-device-id': ['dev-1'],
      },
      'POST',
    )
    expect(facts).toEqual({
      method: 'POST',
      route: '/carts/:id',
      path: '/carts/9',
      url: 'https://shop.example.com:8443/carts/9?x=1',
      host: 'shop.example.com',
      port: 8443,
      authority: 'shop.example.com:8443',
      status: 201,
      requestBytes: 120,
      responseBytes: 48,
      headers: { 'x-device-id': 'dev-1' },
    })
  })

  it('reads the old vocabulary', () => {
    const facts = httpFactsOf(
      {
        'http.method': 'GET',
        'http.url': 'http://inventory:8081/items/3?full=1',
        'http.target': '/items/3?full=1',
        'http.status_code': '404',
        'http.request_content_length': 0,
        'http.response_content_length_uncompressed': 1500,
        'http.request.header.x_device_id': ['dev-2'],
      },
      'GET',
    )
    expect(facts).toMatchObject({
      path: '/items/3',
      url: 'http://inventory:8081/items/3?full=1',
      host: 'inventory',
      port: 8081,
      authority: 'inventory:8081',
      status: 404,
      requestBytes: 0,
      responseBytes: 1500,
      headers: { x_device_id: 'dev-2', 'x-device-id': 'dev-2' },
    })
  })

  it('builds the authority from host and port when there is no URL', () => {
    expect(
      httpFactsOf({ 'server.address': 'db.local', 'server.port': 80, 'url.path': '/q' }, 'GET').authority,
    ).toBe('db.local')
    expect(
      httpFactsOf({ 'server.address': '::1', 'server.port': 9000, 'url.scheme': 'https' }, 'GET').authority,
    ).toBe('[::1]:9000')
    expect(httpFactsOf({ 'http.host': 'api.local:3000', 'http.target': '/a' }, 'GET')).toMatchObject({
      host: 'api.local',
      port: 3000,
      authority: 'api.local:3000',
      path: '/a',
    })
    expect(httpFactsOf({}, 'GET')).toMatchObject({ path: '', authority: undefined, status: 0 })
  })

  it('reads sizes from captured content-length headers, as numbers or strings', () => {
    const facts = httpFactsOf(
      { 'http.request.header.content-length': ['21'], 'http.response.header.content-length': [15] },
      'POST',
    )
    expect([facts.requestBytes, facts.responseBytes]).toEqual([21, 15])
  })
})
