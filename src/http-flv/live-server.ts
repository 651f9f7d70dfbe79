import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { describeError } from '../errors.js';
import { CORS_HEADERS, sendError } from '../http/respond.js';
import type { StreamHub } from '../hub/stream-hub.js';
import { parseStreamPath } from '../hub/stream-name.js';
import type { Viewer, ViewerBudget } from '../hub/viewer.js';
import { WsFlvUpgrade } from '../ws-flv/upgrade.js';
import { answerExpectContinue } from './expect-continue.js';
import { handleIngest, refusePublish } from './ingest.js';
import type { LiveApiHandler } from './list-push-stream.js';
import { handlePlay } from './play.js';

/** The largest request head accepted (node:http's default, made explicit); past it: 431. */
const MAX_HEADER_BYTES = 16 * 1024;
/** A request head must arrive within this (node:http's own check); past it: 408. */
const HEADERS_TIMEOUT_MS = 30_000;
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, OPTIONS';
/** node:http's own error code for a head slower than headersTimeout (not one of Estuary's). */
const NODE_REQUEST_TIMEOUT = /^ERR_HTTP_REQUEST_TIMEOUT$/;

/** An error reply written on a socket node:http has given up on (RFC 9110 15.5). */
function rawReply(status: number, message: string, headers: Record<string, string> = {}): string {
  const body = `${message}\n`;
  const head = Object.entries({
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
    ...headers,
  })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n${body}`;
}

export interface LiveHttpOptions {
  readonly hub: StreamHub;
  readonly log: Logger;
  readonly budget: ViewerBudget;
  readonly maxTagBytes: number;
  readonly idleTimeoutMs: number;
  /** `GET /api?name=…`, the seed's stream list (list-push-stream.ts); 404 without it. */
  readonly api?: LiveApiHandler;
}

/**
 * The live port (8501): `POST /{app}/{stream}` publishes FLV, `GET /{app}/{stream}.flv` plays
 * it, and a WebSocket upgrade on the same URL plays it as WS-FLV.
 */
export class LiveHttpServer {
  readonly server: Server;
  private readonly ws: WsFlvUpgrade;
  /** Connections a play owns (its response runs until the connection closes). */
  private readonly playing = new WeakMap<Socket, Viewer>();

  constructor(private readonly opts: LiveHttpOptions) {
    this.ws = new WsFlvUpgrade(opts);
    this.server = createServer(
      {
        // A publish is one request that lasts as long as the stream: no request timeout.
        requestTimeout: 0,
        headersTimeout: HEADERS_TIMEOUT_MS,
        maxHeaderSize: MAX_HEADER_BYTES,
      },
      (req, res) => this.route(req, res),
    );
    this.server.on('upgrade', (req, socket, head) => this.ws.handle(req, socket, head));
    answerExpectContinue(this.server, opts.hub, opts.log);
    // Without a listener node:http drops a CONNECT without a word.
    this.server.on('connect', (req, socket: Duplex) => {
      opts.log.debug({ method: req.method }, 'CONNECT refused');
      socket.on('error', () => {});
      socket.end(rawReply(405, `${req.method} is not served here`, { Allow: ALLOWED_METHODS }));
    });
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) =>
      this.badRequest(err, socket),
    );
  }

  /**
   * A request node:http could not parse. Answered as node:http answers by default (and the web
   * port does): 431 for a head over MAX_HEADER_BYTES, 408 for one that took too long, else 400;
   * but a connection that plays a stream has FLV bytes flowing, so it is closed instead.
   */
  private badRequest(err: NodeJS.ErrnoException, socket: Duplex): void {
    const viewer = this.playing.get(socket as Socket);
    if (viewer) {
      viewer.close(`a malformed request on a connection that plays a stream (${err.code ?? err.message})`);
      return;
    }
    this.opts.log.debug({ err: err.message, code: err.code }, 'bad HTTP request');
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status =
      err.code === 'HPE_HEADER_OVERFLOW' ? 431 : NODE_REQUEST_TIMEOUT.test(err.code ?? '') ? 408 : 400;
    const why =
      status === 431
        ? `the request head is over ${MAX_HEADER_BYTES} bytes`
        : status === 408
          ? `the request head took over ${HEADERS_TIMEOUT_MS} ms`
          : 'malformed HTTP request';
    socket.end(rawReply(status, why));
  }

  close(): void {
    this.ws.close();
    this.server.close();
    this.server.closeAllConnections();
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const owner = this.playing.get(req.socket);
    if (owner) {
      // node:http parsed a request pipelined after a play; the play's response never ends, so
      // this one could only be answered inside it.
      owner.close('another request on a connection that plays a stream (pipelining is not served)');
      return;
    }
    const path = (req.url ?? '/').split('?', 1)[0]!;
    try {
      if (req.method === 'OPTIONS') {
        res.writeHead(204, CORS_HEADERS);
        res.end();
      } else if (req.method === 'POST' || req.method === 'PUT') {
        handleIngest(req, res, parseStreamPath(path), {
          hub: this.opts.hub,
          log: this.opts.log,
          maxTagBytes: this.opts.maxTagBytes,
          idleTimeoutMs: this.opts.idleTimeoutMs,
        });
      } else if ((req.method === 'GET' || req.method === 'HEAD') && path === '/api' && this.opts.api) {
        this.opts.api(req, res);
      } else if ((req.method === 'GET' || req.method === 'HEAD') && path.endsWith('.flv')) {
        const viewer = handlePlay(req, res, parseStreamPath(path, '.flv'), this.opts);
        if (viewer) this.playing.set(req.socket, viewer);
      } else if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', ALLOWED_METHODS);
        sendError(res, 405, `${req.method} is not served here (${ALLOWED_METHODS})`);
      } else {
        sendError(res, 404, `no such resource: ${req.method} ${path.slice(0, 200)}`);
      }
    } catch (err) {
      this.opts.log.warn(
        { method: req.method, path: path.slice(0, 200), reason: describeError(err) },
        'refused',
      );
      if (req.method === 'POST' || req.method === 'PUT') refusePublish(req, res, 400, describeError(err));
      else sendError(res, 400, describeError(err));
    }
  }
}
