/**
 * `--workers N` (N > 1) for any server command: in the primary, forks and supervises the workers
 * (primary.ts); in a worker, runs the command's server until the primary says stop
 * (worker-link.ts). With N = 1 the commands never come here: one process, no cluster code.
 */
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { connIdsFrom } from '../log.js';
import { onSignals, reloadOnHup } from '../util/process-signals.js';
import type { WorkerAccept } from './accept-mode.js';
import { type PrimaryOptions, runPrimary } from './primary.js';
import { PrimaryLink, serveAsWorker } from './worker-link.js';

/** One worker's server. */
export interface WorkerServer {
  start(): Promise<unknown>;
  stop(): Promise<void>;
  /** Its private loopback URL for other workers' pulls, once started (origin workers only). */
  privateUrl?(): string | undefined;
  /** SIGHUP (forwarded by the primary): re-read the settings and apply what can change live. */
  reload?(): void;
}

export interface ClusterSpec {
  readonly name: string;
  readonly workers: number;
  /** `--worker-accept`: how the workers share the ports (accept-mode.ts). */
  readonly accept: WorkerAccept;
  readonly log: Logger;
  /** In the primary, once, before any worker is forked (crash recovery). */
  readonly beforeFork?: () => Promise<void>;
  /** In the primary, when a worker died holding the publishes of `paths` (primary.ts). */
  readonly afterDeath?: PrimaryOptions['afterDeath'];
  /** In a worker: its server, with its logger (which names the worker) and its link to the primary. */
  readonly worker: (log: Logger, link: PrimaryLink) => WorkerServer;
}

export async function runClustered(spec: ClusterSpec): Promise<number> {
  if (cluster.isPrimary) {
    return runPrimary({
      name: spec.name,
      workers: spec.workers,
      accept: spec.accept,
      log: spec.log.child({ cluster: 'primary' }),
      beforeFork: spec.beforeFork,
      afterDeath: spec.afterDeath,
    });
  }
  const link = new PrimaryLink();
  connIdsFrom(link.worker * 1_000_000 + 1);
  const server = spec.worker(spec.log.child({ worker: link.worker }), link);
  // The primary forwards SIGHUP to every worker (primary.ts); without a reload it is ignored
  // (its default action would end the worker).
  const offHup = onSignals({
    SIGHUP: reloadOnHup(`${spec.name} (worker ${link.worker})`, () => server.reload?.()),
  });
  const code = await serveAsWorker(
    spec.name,
    link,
    () => server.start(),
    () => server.stop(),
    () => server.privateUrl?.(),
  );
  offHup();
  // The IPC channel would keep this process alive.
  if (process.connected) process.disconnect();
  return code;
}
