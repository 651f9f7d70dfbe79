/**
 * How the workers of `--workers N` share a port (`--worker-accept`, bench/RESULTS.md has the
 * figures behind the default):
 *
 * - `round-robin`: node:cluster's default. The primary accepts every connection and hands it to
 *   the workers in turn over IPC — equal shares, but a worker takes its next connection only
 *   after it answered the previous handoff (Node's RoundRobinHandle keeps one in flight per
 *   worker), so the accept rate is bounded by the round trip through both event loops, and the
 *   primary spends CPU on every connection. Under a ramp on busy cores the primary held 2,500
 *   accepted connections waiting for a worker.
 * - `shared`: cluster's SCHED_NONE. Every worker accepts on the one listening socket itself, in
 *   batches, without the primary; the kernel wakes whichever worker is idle, so the shares follow
 *   the load rather than the count.
 * - `reuseport`: each worker listens on its own SO_REUSEPORT socket (Node ≥ 22.12 / 23.1 on
 *   Linux, `net` option `reusePort`), and the kernel spreads connections over them by hash:
 *   equal shares without the primary in the path. A port of 0 (any free port) cannot be shared
 *   so, and falls back to the cluster's handle.
 * - `auto`: `reuseport` where Node has it, else `shared`.
 */
import cluster from 'node:cluster';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { EstuaryError } from '../errors.js';

/** The kernel's queue of connections not yet accepted, per port (capped by net.core.somaxconn). */
export const LISTEN_BACKLOG = 4096;

export type WorkerAccept = 'auto' | 'round-robin' | 'shared' | 'reuseport';
export type AcceptMode = Exclude<WorkerAccept, 'auto'>;

/** Whether this Node has `reusePort` on net listeners (22.12+ on the 22 line, 23.1+), on Linux. */
export function hasReusePort(version = process.versions.node, platform = process.platform): boolean {
  if (platform !== 'linux') return false;
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

export function acceptMode(setting: WorkerAccept, reusePort = hasReusePort()): AcceptMode {
  if (setting === 'auto') return reusePort ? 'reuseport' : 'shared';
  if (setting === 'reuseport' && !reusePort) {
    throw new EstuaryError(
      'ERR_CONFIG',
      `--worker-accept reuseport needs Node 22.12+ or 23.1+ on Linux (this is Node ${process.versions.node} on ${process.platform})`,
    );
  }
  return setting;
}

/**
 * In the primary, before the first fork: cluster's scheduling for the ports the workers share
 * through it (all of them in `round-robin` and `shared`; in `reuseport` only ports of 0).
 * NODE_CLUSTER_SCHED_POLICY, Node's own switch, is left to win when it is set.
 */
export function applyAcceptMode(mode: AcceptMode, env: NodeJS.ProcessEnv = process.env): void {
  if (env.NODE_CLUSTER_SCHED_POLICY) return;
  cluster.schedulingPolicy = mode === 'round-robin' ? cluster.SCHED_RR : cluster.SCHED_NONE;
}

/** Extra `listen()` options for a server port: its own SO_REUSEPORT socket in a `reuseport` worker. */
export function listenOptions(setting: WorkerAccept, port: number): { exclusive?: true; reusePort?: true } {
  if (!cluster.isWorker || port === 0) return {};
  // Validated in the primary already (acceptMode throws there first).
  return acceptMode(setting) === 'reuseport' ? { exclusive: true, reusePort: true } : {};
}

/** Where a server port listens: what `listenPort` needs to listen (again) the same way. */
export interface ListenAt {
  readonly port: number;
  readonly host: string;
  readonly accept: WorkerAccept;
}

/**
 * Listens on a server port: a deep accept queue (a ramp of 1,000 viewers a second outruns Node's
 * default of 511 while a fan-out flush holds the event loop, and a dropped SYN costs the client a
 * 1 s retry, bench/RESULTS.md; the kernel caps it at net.core.somaxconn), and in a `--workers`
 * worker maybe its own SO_REUSEPORT socket. `done` gets the port bound (0 = any free port), or
 * the error (a port in use). Used at start and by a worker's accept valve to listen again.
 */
export function listenPort(
  server: NetServer,
  where: ListenAt,
  done: (err: Error | undefined, port: number) => void,
): void {
  const onError = (err: Error) => done(err, 0);
  server.once('error', onError);
  server.listen(
    {
      port: where.port,
      host: where.host,
      backlog: LISTEN_BACKLOG,
      ...listenOptions(where.accept, where.port),
    },
    () => {
      server.off('error', onError);
      done(undefined, (server.address() as AddressInfo).port);
    },
  );
}

/** listenPort as a promise of the port bound. */
export function listenPortAsync(server: NetServer, where: ListenAt): Promise<number> {
  return new Promise((resolve, reject) =>
    listenPort(server, where, (err, port) => (err ? reject(err) : resolve(port))),
  );
}
