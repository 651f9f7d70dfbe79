import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { LimitHits } from '../net/limit-hits.js';

/**
 * Answers what node:http otherwise drops silently or leaves to the default: a request head over
 * the header limit (431, RFC 6585 5), a malformed request (400), a request whose head did not
 * arrive in time (408), and CONNECT (405: no port of ours is a proxy). Each one closes that
 * connection only, with a debug line.
 */
export interface GuardLimits {
  readonly hits: LimitHits;
  /** The port's name in the log line and metrics. */
  readonly port: string;
  readonly maxHeaderBytes: number;
}

export function guardHttpServer(server: Server, log: Logger, limits?: GuardLimits): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    log.debug({ reason: err.code ?? err.message }, 'bad HTTP request');
    const bound =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? 'max_header_bytes'
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? 'headers_timeout'
          : undefined;
    if (bound && limits) {
      const s = socket as Socket;
      const why =
        bound === 'max_header_bytes'
          ? `a request head over ${limits.maxHeaderBytes} bytes`
          : `a request head not complete within ${server.headersTimeout} ms`;
      limits.hits.hit(bound, { port: limits.port, remote: `${s.remoteAddress}:${s.remotePort}` }, why);
    }
    if (!socket.writable || (socket as { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    const status =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  server.on('connect', (_req, socket: Duplex) => {
    socket.end(
      'HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD, OPTIONS\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
    );
  });
}
