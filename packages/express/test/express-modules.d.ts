// The two Express majors are installed under aliases; both are typed with @types/express.
declare module 'express4' {
  import express = require('express')
  export = express
}
declare module 'express5' {
  import express = require('express')
  export = express
}
