// The part of autocannon's API the TypeScript benchmarks use (the package ships no types).
// Packages with such a benchmark add this folder to their tsconfig's `include`.
declare module 'autocannon' {
  interface Options {
    url: string
    connections?: number
    duration?: number
    overallRate?: number
    method?: string
    headers?: Record<string, string>
    body?: string
  }
  interface Histogram {
    average: number
    total: number
    p99: number
  }
  interface Result {
    requests: Histogram
    latency: Histogram
    errors: number
    non2xx: number
  }
  function autocannon(options: Options): Promise<Result>
  export default autocannon
}
