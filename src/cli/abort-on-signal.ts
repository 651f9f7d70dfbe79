import { onSignals } from '../util/process-signals.js';

/**
 * For the commands that run to an end (push, convert): SIGINT/SIGTERM abort the work through an
 * AbortSignal, so it stops cleanly (a publish ended, no half-written output), and the command
 * learns which signal it was for its exit status (130 / 143).
 */
export interface SignalAbort {
  readonly signal: AbortSignal;
  /** The signal that aborted, if one did. */
  readonly received: NodeJS.Signals | undefined;
  /** Removes the handlers (call once the work is over). */
  off(): void;
}

export function abortOnSignals(): SignalAbort {
  const abort = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    received = sig;
    abort.abort();
  };
  const off = onSignals({ SIGINT: onSignal, SIGTERM: onSignal });
  return {
    signal: abort.signal,
    get received() {
      return received;
    },
    off,
  };
}
