export { telemeterKoa } from './internal/middleware.js'
export type { TelemeterKoaOptions, TelemeterState } from './types.js'
