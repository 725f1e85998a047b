/** What every scenario of the demo receives: where to report, and where to say what it does. */
export interface ScenarioOptions {
  readonly url: string
  readonly appKey: string
  readonly log: (line: string) => void
}

export interface Scenario {
  readonly title: string
  readonly run: (options: ScenarioOptions) => Promise<void>
}
