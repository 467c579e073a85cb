/** Exponential backoff with full jitter: attempt n waits a uniform random time in [0, min(cap, base·2ⁿ)). */
export interface BackoffOptions {
  /** Ceiling of the first retry's delay, ms (1 s: the usual 1, 2, 4, 8 … schedule). */
  baseMs: number;
  /** Largest ceiling, ms (30 s, as PROTOCOL.md says). */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1_000, capMs: 30_000 };

/** The upper bound of the delay before retry `attempt` (0-based). */
export function backoffCeiling(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  if (attempt < 0) return 0;
  // 2^attempt overflows to Infinity long after it passed any cap, and min() handles Infinity.
  return Math.min(options.capMs, options.baseMs * 2 ** attempt);
}

/**
 * The delay before retry `attempt` (0-based), full jitter: spreading retries over the whole window
 * keeps clients cut off together (an edge restart) from coming back together.
 * random() must return a number in [0, 1), as Math.random does.
 */
export function backoffDelay(attempt: number, random: () => number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  return Math.floor(random() * backoffCeiling(attempt, options));
}
