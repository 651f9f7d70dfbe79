/**
 * A server's accept lanes (accept-lanes.ts) as its servers start them: as many as fit under the
 * open-file limit beside the connections, with a log line that names the numbers when they are
 * fewer than configured, and switched off and on with a `--workers` worker's accept valve.
 */
import type { Server, ServerOpts } from 'node:net';
import type { Logger } from 'pino';
import { type AcceptLanes, addAcceptLanes, ownsSocket } from './accept-lanes.js';
import { lanesWithinFileLimit, openFileLimit } from './open-file-limit.js';

/** node:http's own socket options (http.Server's constructor): a lane's socket is made the same. */
export const HTTP_SOCKET: ServerOpts = { allowHalfOpen: true, noDelay: true };

/** node:net's defaults, for a net.Server made without options (RTMP). */
export const NET_SOCKET: ServerOpts = {};

export interface LaneBudget {
  /** The setting: the most lanes of the process, shared by its ports. */
  readonly wanted: number;
  /** The connection bound of one port. */
  readonly maxConnections: number;
  /** Ports of this process that get lanes: they share what fits. */
  readonly ports: number;
}

/**
 * Lanes per port that fit under the open-file limit: the connections of the busiest port, the
 * lanes and a reserve must fit; the ports share them evenly. A warn line when fewer than
 * `wanted` fit (`proto` names the server).
 */
export function lanesThatFit(budget: LaneBudget, log: Logger, proto: string): number {
  const limit = openFileLimit();
  const { fit, perPort: lanes } = lanesPerPort(budget, limit);
  if (fit < budget.wanted) {
    log.warn(
      {
        proto,
        lanes: fit,
        wanted: budget.wanted,
        ports: budget.ports,
        maxConnections: budget.maxConnections,
        openFileLimit: limit,
      },
      'accept lanes reduced: maxConnections plus the lanes must fit under the open-file limit (ulimit -n)',
    );
  }
  return lanes;
}

/** The lanes of the process that fit under `limit` (undefined: no limit), and each port's share. */
export function lanesPerPort(
  budget: LaneBudget,
  limit: number | undefined,
): { fit: number; perPort: number } {
  const fit = lanesWithinFileLimit(budget.wanted, budget.maxConnections, limit);
  return { fit, perPort: Math.floor(fit / Math.max(1, budget.ports)) };
}

export interface PortLaneOptions {
  readonly count: number;
  readonly backlog: number;
  readonly socket: ServerOpts;
  readonly log: Logger;
  /** The port's name in log lines ('files', 'http', 'rtmp'…). */
  readonly proto: string;
}

/** Adds up to `count` lanes to a listening `server`; a warn line when fewer could be made. */
export async function startLanes(server: Server, opts: PortLaneOptions): Promise<AcceptLanes> {
  const { count, log, proto } = opts;
  const lanes = await addAcceptLanes(server, {
    count,
    backlog: opts.backlog,
    socket: opts.socket,
    onError: (err) => log.warn({ proto, err: err.message }, 'accept failed'),
  });
  // None in a round-robin worker is by design (the primary accepts): nothing to warn about.
  if (lanes.count < count && ownsSocket(server)) {
    log.warn(
      { proto, lanes: lanes.count, wanted: count },
      'fewer accept lanes than configured: new connections may wait under load',
    );
  }
  return lanes;
}

/** The accept valve's `onListening` for a port's lanes (set once they are made). */
export function lanesFollowValve(lanes: () => AcceptLanes | undefined): (listening: boolean) => void {
  return (listening) => (listening ? lanes()?.resume() : lanes()?.pause());
}
