/**
 * The scenarios of packages/nest/test against NestJS 12 (ESM-only), through
 * the injected build of @telemeter/nest, whose peer imports resolve to Nest 12.
 */
import 'reflect-metadata'
import * as common from '@nestjs/common'
import * as core from '@nestjs/core'
import * as platformExpress from '@nestjs/platform-express'
import * as platformFastify from '@nestjs/platform-fastify'
import * as testing from '@nestjs/testing'
import * as telemeter from '@telemeter/nest'
import { describeHttp } from '../../../../packages/nest/test/http-suite.js'
import { describeModule } from '../../../../packages/nest/test/module-suite.js'
import type { NestModules } from '../../../../packages/nest/test/nest-modules.js'

const nest = {
  label: 'NestJS 12',
  common,
  core,
  testing,
  platformExpress,
  platformFastify,
  telemeter,
} as unknown as NestModules

describeHttp(nest)
describeModule(nest)
