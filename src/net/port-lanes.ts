/**
 * A server's accept lanes (accept-lanes.ts) on its ports, one policy for the origin, the edge and
 * the file gateway: how many fit under the open-file limit, the log lines when fewer do, and the
 * switch a `--workers` worker's accept valve turns.
 */
import type { Server, ServerOpts } from 'node:net';
import type { Logger } from 'pino';
import { LISTEN_BACKLOG } from '../cluster/accept-mode.js';
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

/** The lanes of the process that fit under `limit` (undefined: no limit), and each port's share. */
export function lanesPerPort(
  budget: LaneBudget,
  limit: number | undefined,
): { fit: number; perPort: number } {
  const fit = lanesWithinFileLimit(budget.wanted, budget.maxConnections, limit);
  return { fit, perPort: Math.floor(fit / Math.max(1, budget.ports)) };
}

/** The settings the lanes follow, read at start and on a reload. */
export interface LaneSettings {
  readonly acceptLanes: number;
  readonly maxConnections: number;
}

/** A port that gets lanes once it listens. */
export interface LanedPort {
  readonly server: Server;
  /** The options its server makes sockets with (HTTP_SOCKET, NET_SOCKET). */
  readonly socket: ServerOpts;
}

/**
 * A server's accept lanes on each of its ports: as many as fit under the open-file limit,
 * shared evenly by the ports, with a warn line naming the numbers when fewer fit or could be
 * made than configured; switched off and on by a `--workers` worker's accept valve
 * (`follow`), fitted again when a reload changes the bound (`refit`).
 */
export class ServerLanes<Port extends string> {
  private readonly lanes = new Map<Port, AcceptLanes>();

  constructor(
    private readonly log: Logger,
    /** The server's name in the "reduced" line ('origin', 'edge', 'files'). */
    private readonly name: string,
    private readonly ports: readonly Port[],
    private readonly settings: () => LaneSettings,
  ) {}

  /** Adds the lanes to every port (listening already), the ports at once: each is made by a child. */
  async start(ports: Record<Port, LanedPort>): Promise<void> {
    const count = this.perPort();
    await Promise.all(
      this.ports.map(async (port) => {
        const { server, socket } = ports[port];
        this.lanes.set(port, await this.add(server, socket, count, port));
      }),
    );
  }

  /** The accept valve's `onListening` for `port`. */
  follow(port: Port): (listening: boolean) => void {
    return (listening) => (listening ? this.lanes.get(port)?.resume() : this.lanes.get(port)?.pause());
  }

  /** A reload changed the bound: a raised one leaves fewer descriptors (a lowered one adds none back). */
  refit(): void {
    const count = this.perPort();
    for (const lanes of this.lanes.values()) lanes.limitTo(count);
  }

  close(): void {
    for (const lanes of this.lanes.values()) lanes.close();
  }

  private perPort(): number {
    const { acceptLanes: wanted, maxConnections } = this.settings();
    const limit = openFileLimit();
    const { fit, perPort } = lanesPerPort({ wanted, maxConnections, ports: this.ports.length }, limit);
    if (fit < wanted) {
      this.log.warn(
        {
          proto: this.name,
          lanes: fit,
          wanted,
          ports: this.ports.length,
          maxConnections,
          openFileLimit: limit,
        },
        'accept lanes reduced: maxConnections plus the lanes must fit under the open-file limit (ulimit -n)',
      );
    }
    return perPort;
  }

  private async add(server: Server, socket: ServerOpts, count: number, proto: string): Promise<AcceptLanes> {
    const lanes = await addAcceptLanes(server, {
      count,
      backlog: LISTEN_BACKLOG,
      socket,
      onError: (err) => this.log.warn({ proto, err: err.message }, 'accept failed'),
    });
    // None in a round-robin worker is by design (the primary accepts): nothing to warn about.
    if (lanes.count < count && ownsSocket(server)) {
      this.log.warn(
        { proto, lanes: lanes.count, wanted: count },
        'fewer accept lanes than configured: new connections may wait under load',
      );
    }
    return lanes;
  }
}
