import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { describeError } from '../errors.js';
import { CORS_HEADERS, sendError } from '../http/respond.js';
import type { StreamHub } from '../hub/stream-hub.js';
import { parseStreamPath } from '../hub/stream-name.js';
import type { ViewerBudget } from '../hub/viewer.js';
import { WsFlvUpgrade } from '../ws-flv/upgrade.js';
import { answerExpectContinue } from './expect-continue.js';
import { handleIngest, refusePublish } from './ingest.js';
import type { LiveApiHandler } from './list-push-stream.js';
import { handlePlay } from './play.js';

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

  constructor(private readonly opts: LiveHttpOptions) {
    this.ws = new WsFlvUpgrade(opts);
    this.server = createServer(
      {
        // A publish is one request that lasts as long as the stream: no request timeout.
        requestTimeout: 0,
        headersTimeout: 30_000,
      },
      (req, res) => this.route(req, res),
    );
    this.server.on('upgrade', (req, socket, head) => this.ws.handle(req, socket, head));
    answerExpectContinue(this.server, opts.hub, opts.log);
    this.server.on('clientError', (err, socket) => {
      opts.log.debug({ err: err.message }, 'bad HTTP request');
      socket.destroy();
    });
  }

  close(): void {
    this.ws.close();
    this.server.close();
    this.server.closeAllConnections();
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
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
        handlePlay(req, res, parseStreamPath(path, '.flv'), this.opts);
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
