/** A minimal typed event emitter: on() returns the function that removes the listener. */
export class Emitter<Events extends object> {
  private readonly listeners_ = new Map<keyof Events, Set<(payload: never) => void>>();

  on<K extends keyof Events>(type: K, listener: (payload: Events[K]) => void): () => void {
    let set = this.listeners_.get(type);
    if (!set) {
      set = new Set();
      this.listeners_.set(type, set);
    }
    set.add(listener as (payload: never) => void);
    return () => {
      set.delete(listener as (payload: never) => void);
    };
  }

  /** Calls every listener of `type`; a listener that throws does not stop the others. */
  emit<K extends keyof Events>(type: K, payload: Events[K]): void {
    const set = this.listeners_.get(type);
    if (!set || set.size === 0) return;
    for (const listener of [...set]) {
      try {
        (listener as (payload: Events[K]) => void)(payload);
      } catch (err) {
        reportListenerError(err);
      }
    }
  }

  listenerCount(type: keyof Events): number {
    return this.listeners_.get(type)?.size ?? 0;
  }
}

// A listener's bug must not break the connection logic that emitted the event: report it the way
// an uncaught error would be, without unwinding the caller.
export function reportListenerError(err: unknown): void {
  const g = globalThis as { reportError?: (e: unknown) => void; setTimeout?: (fn: () => void, ms: number) => unknown };
  if (typeof g.reportError === 'function') {
    g.reportError(err);
  } else if (typeof g.setTimeout === 'function') {
    g.setTimeout(() => {
      throw err;
    }, 0);
  }
}
