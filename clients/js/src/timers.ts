/** The clock and timers the client runs on; tests pass a fake one. */
export interface Timers {
  /** Milliseconds, monotonic enough for measuring round trips and ages. */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

interface GlobalTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The host's timers and Date.now. */
export function systemTimers(): Timers {
  const g = globalThis as unknown as GlobalTimers;
  return {
    now: () => Date.now(),
    setTimeout: (callback, ms) => g.setTimeout(callback, ms),
    clearTimeout: (handle) => g.clearTimeout(handle),
  };
}

/** One pending timeout that can be re-armed; arming it again cancels the previous one. */
export class Timer {
  private handle_: unknown = undefined;
  private armed_ = false;

  constructor(private readonly timers: Timers) {}

  get armed(): boolean {
    return this.armed_;
  }

  arm(ms: number, callback: () => void): void {
    this.cancel();
    this.armed_ = true;
    this.handle_ = this.timers.setTimeout(() => {
      this.armed_ = false;
      callback();
    }, Math.max(0, ms));
  }

  cancel(): void {
    if (!this.armed_) return;
    this.timers.clearTimeout(this.handle_);
    this.armed_ = false;
  }
}
