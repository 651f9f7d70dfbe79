import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { describeError } from '../errors.js';
import { CORS_HEADERS, rawReply, sendError } from '../http/respond.js';
import type { Router } from '../http/router.js';
import type { Admission } from '../hub/admission.js';
import type { StreamHub } from '../hub/stream-hub.js';
import { parseStreamPath, type StreamName } from '../hub/stream-name.js';
import type { Viewer, ViewerBudget } from '../hub/viewer.js';
import type { LimitHits } from '../net/limit-hits.js';
import { WsFlvUpgrade } from '../ws-flv/upgrade.js';
import { answerExpectContinue } from './expect-continue.js';
import { handleIngest, refusePublish } from './ingest.js';
import type { LiveApiHandler } from './list-push-stream.js';
import { handlePlay } from './play.js';

/** The largest request head accepted (node:http's default, made explicit); past it: 431. */
const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
/** A request head must arrive within this (node:http's own check); past it: 408. */
const DEFAULT_HEADERS_TIMEOUT_MS = 30_000;
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, OPTIONS';
/** An edge only plays. */
const PLAY_ONLY_METHODS = 'GET, HEAD, OPTIONS';
/** node:http's own error code for a head slower than headersTimeout (not one of Estuary's). */
const NODE_REQUEST_TIMEOUT = /^ERR_HTTP_REQUEST_TIMEOUT$/;

export interface LiveHttpOptions {
  readonly hub: StreamHub;
  /** What a publish or play goes through first (access rules, callbacks, limits); none: all admitted. */
  readonly admission?: Admission;
  readonly log: Logger;
  readonly budget: ViewerBudget;
  readonly maxTagBytes: number;
  readonly idleTimeoutMs: number;
  /**
   * Whether this port takes publishes (HTTP-FLV POST/PUT, WebSocket-FLV). False on an edge,
   * which only plays: a publish there gets 405 (default true).
   */
  readonly publish?: boolean;
  /** Other GET paths this port serves (the edge's /api/streams); anything else is 404. */
  readonly routes?: Router;
  /** How long a viewer waits for a stream the hub's source is bringing (PlayContext). */
  readonly sourceWaitMs?: number;
  /** `GET /api?name=…`, the seed's stream list (list-push-stream.ts); 404 without it. */
  readonly api?: LiveApiHandler;
  /** A request head (or WebSocket upgrade) must arrive within this, else 408 (default 30 s). */
  readonly headersTimeoutMs?: number;
  /** The largest request head, else 431 (default 16 KiB). */
  readonly maxHeaderBytes?: number;
  /** The largest message a WebSocket-FLV viewer may send (default 64 KiB). */
  readonly wsViewerMaxMessageBytes?: number;
  /** Where a bound passed is counted and logged (rate-limited). */
  readonly limits?: LimitHits;
}

/**
 * The live port (8501): `POST /{app}/{stream}` (or a WebSocket on the same URL) publishes FLV,
 * `GET /{app}/{stream}.flv` plays it, and a WebSocket upgrade on that URL plays it as WS-FLV. An
 * edge runs it play-only, with its API routes beside.
 */
export class LiveHttpServer {
  readonly server: Server;
  private readonly ws: WsFlvUpgrade;
  /** Connections a play owns (its response runs until the connection closes). */
  private readonly playing = new WeakMap<Socket, Viewer>();
  private readonly allowed: string;
  private readonly maxHeaderBytes: number;

  constructor(private readonly opts: LiveHttpOptions) {
    this.maxHeaderBytes = opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    const headersTimeout = opts.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
    this.allowed = opts.publish === false ? PLAY_ONLY_METHODS : ALLOWED_METHODS;
    this.ws = new WsFlvUpgrade({ ...opts, publish: opts.publish !== false });
    this.server = createServer(
      {
        // A publish is one request that lasts as long as the stream: no request timeout.
        requestTimeout: 0,
        headersTimeout: headersTimeout,
        maxHeaderSize: this.maxHeaderBytes,
        // node:http checks headersTimeout only this often (default 30 s, so a slow head could
        // hold its connection twice headersTimeout); it visits only connections whose request
        // is still incomplete, not the viewers.
        connectionsCheckingInterval: Math.min(1000, headersTimeout),
      },
      (req, res) => this.route(req, res),
    );
    this.server.on('upgrade', (req, socket, head) => this.ws.handle(req, socket, head));
    answerExpectContinue(this.server, opts.hub, opts.log, opts.publish !== false, opts.admission);
    // Without a listener node:http drops a CONNECT without a word.
    this.server.on('connect', (req, socket: Duplex) => {
      opts.log.debug({ method: req.method }, 'CONNECT refused');
      socket.on('error', () => {});
      socket.end(rawReply(405, `${req.method} is not served here`, { Allow: this.allowed }));
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
      viewer.close(
        err.code === 'ECONNRESET'
          ? 'connection reset by the client'
          : `a malformed request on a connection that plays a stream (${err.code ?? err.message})`,
      );
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
        ? `the request head is over ${this.maxHeaderBytes} bytes`
        : status === 408
          ? `the request head took over ${this.server.headersTimeout} ms`
          : 'malformed HTTP request';
    if (status !== 400) {
      const s = socket as Socket;
      this.opts.limits?.hit(
        status === 431 ? 'max_header_bytes' : 'headers_timeout',
        { port: 'http', remote: `${s.remoteAddress}:${s.remotePort}` },
        why,
      );
    }
    socket.end(rawReply(status, why));
  }

  close(): void {
    this.ws.close();
    this.server.close();
    this.server.closeAllConnections();
  }

  /**
   * A play owns its connection from the moment it is routed, also while an edge waits for the
   * upstream: a request pipelined behind it closes it then too. A play that ends in an error
   * reply (404, 502) gives the connection back.
   */
  private play(req: IncomingMessage, res: ServerResponse, name: StreamName): void {
    const socket = req.socket;
    const waiting: Viewer = {
      write: () => {},
      buffered: 0,
      close: (reason) => {
        this.opts.log.info({ proto: 'http-flv-play', path: name.path, reason }, 'viewer closed');
        socket.destroy();
      },
      streamEnded: () => socket.destroy(),
    };
    this.playing.set(socket, waiting);
    handlePlay(req, res, name, this.opts).then(
      (viewer) => {
        if (viewer) this.playing.set(socket, viewer);
        else if (this.playing.get(socket) === waiting) this.playing.delete(socket);
      },
      (err: unknown) => {
        this.opts.log.error({ path: name.path, reason: describeError(err) }, 'play failed');
        socket.destroy();
      },
    );
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
      const publishing = req.method === 'POST' || req.method === 'PUT';
      if (req.method === 'OPTIONS') {
        res.writeHead(204, CORS_HEADERS);
        res.end();
      } else if (publishing && this.opts.publish !== false) {
        handleIngest(req, res, parseStreamPath(path), {
          hub: this.opts.hub,
          admission: this.opts.admission,
          log: this.opts.log,
          maxTagBytes: this.opts.maxTagBytes,
          idleTimeoutMs: this.opts.idleTimeoutMs,
          limits: this.opts.limits,
        });
      } else if ((req.method === 'GET' || req.method === 'HEAD') && path === '/api' && this.opts.api) {
        this.opts.api(req, res);
      } else if ((req.method === 'GET' || req.method === 'HEAD') && path.endsWith('.flv')) {
        this.play(req, res, parseStreamPath(path, '.flv'));
      } else if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', this.allowed);
        const why = publishing
          ? `ERR_METHOD_NOT_ALLOWED: ${req.method} (publish) is not served on an edge, which only plays (${this.allowed})`
          : `${req.method} is not served here (${this.allowed})`;
        if (publishing) refusePublish(req, res, 405, why);
        else sendError(res, 405, why);
      } else if (this.opts.routes) {
        this.opts.routes.handle(req, res, this.opts.log);
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
