import 'reflect-metadata'
import * as common from '@nestjs/common'
import * as core from '@nestjs/core'
import * as platformExpress from '@nestjs/platform-express'
import * as platformFastify from '@nestjs/platform-fastify'
import * as testing from '@nestjs/testing'
import * as telemeter from '../src/index.js'
import { describeHttp } from './http-suite.js'
import { describeModule } from './module-suite.js'
import type { NestModules } from './nest-modules.js'

const nest: NestModules = {
  label: 'NestJS 11',
  common,
  core,
  testing,
  platformExpress,
  platformFastify,
  telemeter,
}

describeHttp(nest)
describeModule(nest)
