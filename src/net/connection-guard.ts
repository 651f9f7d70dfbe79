import type { Server, Socket } from 'node:net';
import type { Logger } from 'pino';
import { connectionInfo } from './connection-info.js';
import type { LimitHits } from './limit-hits.js';

/** How long a refused HTTP connection has to read its 503 before it is cut. */
const REFUSAL_LINGER_MS = 1000;

/** What an HTTP port that holds maxConnections answers (RFC 9110 15.6.4: full for now, not broken). */
export const HTTP_FULL =
  'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 28\r\n\r\nERR_LIMIT: too many clients\n';

export interface ConnectionLimits {
  /** Connections open at once on the port. */
  readonly maxConnections: number;
  /** Connections open at once from one IP address; 0: no bound. */
  readonly maxConnectionsPerAddress: number;
}

export interface ConnectionGuardOptions {
  /** The port's name in logs and metrics: 'rtmp', 'http', 'web', 'edge', 'files'. */
  readonly name: string;
  readonly log: Logger;
  /** Read at every accept, so a reload (SIGHUP) applies to the next connection. */
  readonly limits: () => ConnectionLimits;
  readonly hits: LimitHits;
  /** Bytes sent to a refused connection before it is closed (an HTTP 503); none: closed at once. */
  readonly refusal?: string;
  /**
   * The level of the one line logged when a connection closes (its reason, bytes, duration);
   * false: none (the RTMP session logs its own, with its connection id and app).
   */
  readonly closeLog: 'info' | 'debug' | false;
  /** A `--workers` worker's accept valve for the port (cluster/accept-valve.ts); none in one process. */
  readonly valve?: PortValve;
}

/** What a worker's port does at its bound (cluster/accept-valve.ts). */
export interface PortValve {
  /** The port's open connections, after each accept, close and refusal. */
  update(open: number): void;
  /** Takes a connection that came when the port holds maxConnections, for a worker with room. */
  handOff(socket: Socket): boolean;
}

/**
 * One listening port's bound on open connections, in total and per address, checked as each
 * connection is accepted (before a byte of it is parsed), and the port's one line per closed
 * connection: who, what it was (connection-info.ts), why it ended, bytes in and out, how long.
 * Per connection, never per write.
 */
export class ConnectionGuard {
  private open = 0;
  private readonly perAddress = new Map<string, number>();
  /** Connections refused by a bound, in total. */
  refused = 0;

  /** The server's own connections (a worker's pull link to another): never bounded or counted. */
  private readonly internal = new WeakSet<Socket>();

  constructor(
    private readonly server: Server,
    private readonly opts: ConnectionGuardOptions,
  ) {
    // Before the port's 'connection' listeners, and instead of them for a refused connection:
    // node:http's parser (which reads the socket itself) and an RTMP session never see it, so no
    // handler behind the port has to ask. Wrapping emit is the one place that can stop the event.
    // emit's overloads do not spell its general form; this is it.
    type Emit = (this: Server, event: string | symbol, ...args: unknown[]) => boolean;
    const emit = server.emit as Emit;
    const accept = (socket: Socket) => this.internal.has(socket) || this.accept(socket);
    server.emit = function (this: Server, event, ...args) {
      if (event === 'connection' && !accept(args[0] as Socket)) return false;
      return emit.call(this, event, ...args);
    } as Emit as Server['emit'];
  }

  get connections(): number {
    return this.open;
  }

  /**
   * Serves a connection the server made to itself (another worker's pull of a stream this one
   * holds) as the port's own, outside its bounds: `maxConnections` is the clients' bound, and
   * with N workers of maxConnections each the N × maxConnections clients fit.
   */
  admitInternal(socket: Socket): void {
    this.internal.add(socket);
    this.server.emit('connection', socket);
  }

  /** Counts `socket` in, or refuses it (false: the server's listeners never get it). */
  private accept(socket: Socket): boolean {
    const limits = this.opts.limits();
    const address = socket.remoteAddress ?? '';
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (this.open >= limits.maxConnections) {
      // A valve whose pause was refused asks again (the other workers may have room by now),
      // and another worker may take this one: a refusal only when no worker has room.
      this.opts.valve?.update(this.open);
      if (this.opts.valve?.handOff(socket)) return false;
      this.refuse(socket, 'max_connections', `${limits.maxConnections} connections open on the port`, {
        maxConnections: limits.maxConnections,
      });
      return false;
    }
    if (limits.maxConnectionsPerAddress > 0 && fromAddress >= limits.maxConnectionsPerAddress) {
      this.refuse(
        socket,
        'max_connections_per_address',
        `${limits.maxConnectionsPerAddress} connections open from ${address}`,
        { address, maxConnectionsPerAddress: limits.maxConnectionsPerAddress },
      );
      return false;
    }
    this.open++;
    this.perAddress.set(address, fromAddress + 1);
    this.opts.valve?.update(this.open);
    const opened = Date.now();
    if (this.opts.log.isLevelEnabled('debug')) {
      this.opts.log.debug({ proto: this.opts.name, remote: `${address}:${socket.remotePort ?? ''}` }, 'open');
    }
    let peerEnded = false;
    let error: string | undefined;
    socket.once('end', () => {
      peerEnded = true;
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
    });
    socket.once('close', () => {
      this.open--;
      const n = (this.perAddress.get(address) ?? 1) - 1;
      if (n > 0) this.perAddress.set(address, n);
      else this.perAddress.delete(address);
      this.opts.valve?.update(this.open);
      if (this.opts.closeLog === false || !this.opts.log.isLevelEnabled(this.opts.closeLog)) return;
      const info = connectionInfo(socket);
      const reason =
        info?.reason ??
        (error ? `socket error: ${error}` : peerEnded ? 'closed by the client' : 'closed by the server');
      this.opts.log[this.opts.closeLog](
        {
          proto: info?.protocol ?? this.opts.name,
          remote: `${address}:${socket.remotePort ?? ''}`,
          role: info?.role,
          path: info?.path,
          reason,
          bytesIn: socket.bytesRead,
          bytesOut: socket.bytesWritten,
          durationMs: Date.now() - opened,
        },
        'closed',
      );
    });
    return true;
  }

  private refuse(socket: Socket, limit: string, why: string, fields: Record<string, unknown>): void {
    this.refused++;
    this.opts.hits.hit(limit, { port: this.opts.name, ...fields }, `${why}: new connections refused`);
    socket.on('error', () => {}); // a refused peer's reset is no one's concern
    if (!this.opts.refusal) {
      socket.destroy();
      return;
    }
    // The answer, then the socket goes, whatever the peer does.
    socket.end(this.opts.refusal);
    setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS).unref();
  }
}
