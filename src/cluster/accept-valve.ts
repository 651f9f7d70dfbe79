/**
 * A worker's port that holds its `maxConnections` stops accepting, so that the other workers take
 * the next connections instead of this one refusing them with 503.
 *
 * Why: `maxConnections` is a per-process bound (it exists because one process may hold at most
 * 20,000 open files here), and the workers' shares of a port are not equal. In shared accept the
 * kernel wakes whichever worker is idle, and under load one worker held 16,353 connections while
 * the other held 14,559 (bench/RESULTS.md, 2026-12-02 session 20); in round-robin the primary
 * hands a connection to whichever worker answered its last handoff. So with 2 workers of 19,500
 * each, one worker refused clients while the other had room: 1,990 × 503 in the 39,000-client
 * file-gateway run.
 *
 * How: a little under its bound (pauseAt: the primary's answer takes a round trip, during which
 * a ramp goes on arriving) the worker closes its listening handle for the port (node:cluster then
 * stops giving it connections: in shared accept its duplicate of the socket is gone, in
 * round-robin the primary drops it from the rotation, with `reuseport` its own socket is closed)
 * and listens again once it is back under the bound by a margin (reopenBelow). It asks the
 * primary first (paused-ports.ts): the last worker still accepting on a port never closes it (the
 * port would be closed for everyone, and new clients would get "connection refused" rather than
 * a 503 that says why); when that last one asks, every worker is near its bound, so the paused
 * ones accept again up to their own bound, and the primary also reopens them when a worker
 * dies. Per connection this costs one comparison.
 *
 * The pause is asked, so connections go on arriving while the answer travels, and when every
 * worker is near its bound they all accept: a connection can still reach a worker that holds
 * its bound while another has room (9–30 of 39,000 in the file-gateway run at exactly the
 * workers' total bound). That one is passed on, not refused: its handle goes through the
 * primary to another worker (socket-handle.ts), which takes it, or refuses it with the 503 of a
 * full server if it is full too. It crosses once at most, and only at the bound.
 */
import type { Server, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { PortValve } from '../net/connection-guard.js';
import { type ListenAt, listenPort } from './accept-mode.js';
import { handleToSend, type NativeHandle, socketFromHandle } from './socket-handle.js';
import type { PrimaryLink } from './worker-link.js';

/** After a refused pause, connections refused at the bound ask again no sooner than this, ms. */
const RETRY_MS = 1000;

/**
 * Ask to pause this far under the bound: 0.5 % (97 of 19,500; none under 200). The answer takes
 * an IPC round trip through the primary, and the connections accepted meanwhile, in a ramp of
 * thousands a second, would otherwise pass the bound and get 503.
 */
export function pauseAt(max: number): number {
  return max - Math.floor(max / 200);
}

/** Reopen once this many connections below the bound: 1 %, at least 1 (no flapping at the bound). */
export function reopenBelow(max: number): number {
  return max - Math.max(1, Math.ceil(max / 100));
}

type State = 'open' | 'asking' | 'closed' | 'reopening';

export interface AcceptValveOptions {
  readonly server: Server;
  /** The port's name, as in logs and metrics ('files', 'edge', 'http'…); the primary's key. */
  readonly port: string;
  readonly link: PrimaryLink;
  readonly log: Logger;
  /** Read at every change, so a reload (SIGHUP) applies. */
  readonly maxConnections: () => number;
  /** Where the server listens (to listen again as it first did). */
  readonly at: ListenAt;
  /**
   * The port stopped (false) or started again (true) listening in this worker: its accept lanes
   * (net/accept-lanes.ts), other descriptors of the same socket, must stop and start with it.
   */
  readonly onListening?: (listening: boolean) => void;
}

/** A valve for a port in a `--workers` worker (`link`); none in a single process. */
export function acceptValve(
  link: PrimaryLink | undefined,
  opts: Omit<AcceptValveOptions, 'link'>,
): AcceptValve | undefined {
  return link ? new AcceptValve({ ...opts, link }) : undefined;
}

/** node:net's own listening handle of a server (internal: the only way to close it alone). */
interface Listening {
  _handle: { close(): void } | null;
}

export class AcceptValve implements PortValve {
  private state: State = 'open';
  private refusedAt = Number.NEGATIVE_INFINITY;
  private stopped = false;
  private open = 0;
  /** Connections another worker passed on: taken or refused here, never passed on again. */
  private readonly passedIn = new WeakSet<Socket>();

  constructor(private readonly opts: AcceptValveOptions) {
    opts.link.onReopen(opts.port, () => {
      if (this.state !== 'closed') return;
      // Every worker is near its bound: this one takes connections up to its own now, and asks
      // again only once it has been under the mark (which resets this).
      this.refusedAt = Number.POSITIVE_INFINITY;
      this.reopen();
    });
    opts.link.onTake(opts.port, (handle) => this.take(handle));
  }

  /** A connection came while the port holds its bound: to another worker (false: refuse it here). */
  handOff(socket: Socket): boolean {
    if (this.stopped || this.passedIn.has(socket)) return false;
    const handle = handleToSend(socket);
    if (!handle) return false;
    this.opts.link.handOff(this.opts.port, handle, (err) => {
      if (!err) {
        // On its way: this process's copy of the connection goes (the taker's stays open).
        socket.destroy();
        return;
      }
      // No primary to pass it through: answered here, as one process would (503 while full).
      handle.readStart();
      this.passedIn.add(socket);
      this.opts.server.emit('connection', socket);
    });
    if (this.opts.log.isLevelEnabled('debug')) {
      this.opts.log.debug(
        {
          proto: this.opts.port,
          remote: `${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`,
          open: this.open,
        },
        'this worker is full: connection passed to another worker',
      );
    }
    return true;
  }

  /** Another worker's connection, passed on because that worker was full. */
  private take(handle: NativeHandle): void {
    if (this.stopped) {
      handle.close();
      return;
    }
    const socket = socketFromHandle(this.opts.server, handle);
    this.passedIn.add(socket);
    // Through the port's guard like any accepted connection: counted, or refused if full here too.
    this.opts.server.emit('connection', socket);
  }

  /** The port's open connections changed to `open`. */
  update(open: number): void {
    this.open = open;
    if (this.stopped) return;
    const max = this.opts.maxConnections();
    if (this.state === 'open') {
      // Below the bound again: the next time it is reached is a new ask, not a retry.
      if (open < pauseAt(max)) this.refusedAt = Number.NEGATIVE_INFINITY;
      else if (Date.now() - this.refusedAt >= RETRY_MS) this.ask(max);
    } else if (this.state === 'closed' && open <= reopenBelow(max)) {
      this.reopen();
    }
  }

  /** The server is stopping: never listen again. */
  stop(): void {
    this.stopped = true;
  }

  private ask(max: number): void {
    this.state = 'asking';
    this.opts.link.request({ t: 'pause', port: this.opts.port }).then(
      (r) => {
        if (this.stopped || this.state !== 'asking') return;
        if (!r.ok) {
          // Every other worker is full or paused: this one keeps the port and refuses (503).
          this.state = 'open';
          this.refusedAt = Date.now();
          return;
        }
        if (this.open < pauseAt(max)) {
          // Connections left while the primary answered: no reason to pause any more.
          this.state = 'open';
          this.opts.link.note({ t: 'resume', port: this.opts.port });
          return;
        }
        const server = this.opts.server as unknown as Listening;
        const handle = server._handle;
        this.state = 'closed';
        if (handle) {
          // What net.Server.close does to the handle, without the rest of close(): node:http's
          // close() would also end every idle keep-alive connection, and a closed net.Server
          // waits for 'close'. The connections held stay as they are.
          server._handle = null;
          handle.close();
        }
        this.opts.onListening?.(false);
        this.opts.log.info(
          { proto: this.opts.port, open: this.open, maxConnections: max, reopenAt: reopenBelow(max) },
          `this worker holds ${this.open} connections (its bound: ${max}) on the port: new ones go to the other workers`,
        );
      },
      () => {
        // No primary to ask (it is going away): keep the port.
        this.state = 'open';
        this.refusedAt = Date.now();
      },
    );
  }

  private reopen(): void {
    if (this.stopped) return;
    this.state = 'reopening';
    listenPort(this.opts.server, this.opts.at, (err) => {
      if (err) {
        // The port could not be taken again (another process took it): say so and try later.
        this.opts.log.error({ proto: this.opts.port, err: err.message }, 'could not listen again');
        this.state = 'closed';
        setTimeout(() => this.reopen(), RETRY_MS).unref();
        return;
      }
      this.state = 'open';
      this.opts.onListening?.(true);
      this.opts.link.note({ t: 'resume', port: this.opts.port });
      this.opts.log.debug({ proto: this.opts.port }, 'accepting again');
    });
  }
}
