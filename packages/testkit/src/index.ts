export { runExample } from './internal/example.js'
export { printLive } from './internal/live.js'
export { summarize } from './internal/summary.js'
export { startTestServer } from './internal/test-server.js'
export type {
  EventFilter,
  Fault,
  FaultKind,
  FaultRequestInfo,
  FaultScope,
  IngestedRequest,
  IngestOutcome,
  PrintLiveOptions,
  ProtocolViolation,
  ReceivedCrash,
  ReceivedEvent,
  ReceivedHttpRequest,
  ReceivedTrace,
  Scenario,
  ScenarioOptions,
  StoredUser,
  TestServer,
  TestServerOptions,
  TraceFilter,
  ViolationCode,
} from './types.js'
