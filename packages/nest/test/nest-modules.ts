/**
 * The packages a shared scenario runs against. The NestJS 11 suite passes
 * the versions of this package's devDependencies and `../src`; the NestJS 12
 * suite (tooling/compat/nest12) passes Nest 12 and its injected
 * `@telemeter/nest`, so every scenario is written once for both majors.
 */
import type * as NestCommon from '@nestjs/common'
import type * as NestCore from '@nestjs/core'
import type * as NestExpress from '@nestjs/platform-express'
import type * as NestFastify from '@nestjs/platform-fastify'
import type * as NestTesting from '@nestjs/testing'
import type * as TelemeterNest from '../src/index.js'

export interface NestModules {
  /** e.g. 'NestJS 11' */
  readonly label: string
  readonly common: typeof NestCommon
  readonly core: typeof NestCore
  readonly testing: typeof NestTesting
  readonly platformExpress: typeof NestExpress
  readonly platformFastify: typeof NestFastify
  readonly telemeter: typeof TelemeterNest
}

export type Platform = 'express' | 'fastify'
export const PLATFORMS: readonly Platform[] = ['express', 'fastify']
