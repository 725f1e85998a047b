// The test apps run on both majors, installed side by side as `koa2` and `koa3`;
// both are typed with the `koa` typings (the API the middleware relies on is the same).
declare module 'koa2' {
  import Koa = require('koa')
  export = Koa
}
declare module 'koa3' {
  import Koa = require('koa')
  export = Koa
}
