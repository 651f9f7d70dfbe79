/** Reconnect delays: exponential, doubling from `initialMs` up to `maxMs`. Pure. */
export interface BackoffOptions {
  /** First delay (default 500 ms). */
  initialMs: number;
  /** Cap (default 8 s): a server back after a restart is found within that long. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 8000 };

/** Delay before attempt `attempt` (1-based). */
export function backoffDelay(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF): number {
  const n = Math.max(1, Math.floor(attempt));
  // 2^(n-1) overflows to Infinity long after the cap, so Math.min keeps it finite.
  return Math.min(opts.maxMs, opts.initialMs * 2 ** (n - 1));
}
