import type { TelemeterEventMap } from '../types.js'

type Listener = (payload: never) => void

/**
 * A tiny emitter for `error`, `sent` and `dropped`. Unlike Node's
 * EventEmitter an `error` without listeners is not thrown, and a listener
 * that throws cannot reach the code that emitted.
 */
export class Emitter {
  private readonly listeners = new Map<keyof TelemeterEventMap, Set<Listener>>()

  on<K extends keyof TelemeterEventMap>(type: K, listener: TelemeterEventMap[K]): () => void {
    if (typeof listener !== 'function') return () => {}
    let set = this.listeners.get(type)
    if (!set) {
      set = new Set()
      this.listeners.set(type, set)
    }
    set.add(listener as Listener)
    return () => this.off(type, listener)
  }

  off<K extends keyof TelemeterEventMap>(type: K, listener: TelemeterEventMap[K]): void {
    this.listeners.get(type)?.delete(listener as Listener)
  }

  has(type: keyof TelemeterEventMap): boolean {
    return (this.listeners.get(type)?.size ?? 0) > 0
  }

  emit<K extends keyof TelemeterEventMap>(type: K, payload: Parameters<TelemeterEventMap[K]>[0]): void {
    const set = this.listeners.get(type)
    if (!set) return
    for (const listener of set) {
      try {
        ;(listener as (value: typeof payload) => void)(payload)
      } catch {
        // Listener errors belong to the listener.
      }
    }
  }
}
