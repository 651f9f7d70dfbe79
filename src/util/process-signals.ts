/**
 * The process signals a command listens to, installed together and removed together: every
 * server command (single process, cluster primary, worker) and every run-to-the-end command
 * (push, convert) has the same few lines of on/off otherwise.
 */
import { describeError } from '../errors.js';

export type SignalHandlers = Partial<Record<NodeJS.Signals, (signal: NodeJS.Signals) => void>>;

/** Installs the handlers; the returned function removes them all. */
export function onSignals(handlers: SignalHandlers): () => void {
  const entries = Object.entries(handlers) as [NodeJS.Signals, (signal: NodeJS.Signals) => void][];
  for (const [sig, h] of entries) process.on(sig, h);
  return () => {
    for (const [sig, h] of entries) process.off(sig, h);
  };
}

/**
 * A SIGHUP handler that re-reads the settings through `reload`: a failure (a config file that
 * does not parse) is printed as `estuary LABEL: SIGHUP: …` and the server runs on unchanged.
 */
export function reloadOnHup(label: string, reload: () => void): () => void {
  return () => {
    try {
      reload();
    } catch (err) {
      console.error(`estuary ${label}: SIGHUP: the settings were not reloaded: ${describeError(err)}`);
    }
  };
}
