import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { StreamHub } from '../hub/stream-hub.js';
import type { LimitHits } from '../net/limit-hits.js';
import { ConnectionMeter } from './api/connection-meter.js';
import { recordingsApi } from './api/recordings.js';
import { ServerDescriber, type ServerPorts, serverApi } from './api/server.js';
import type { StreamStats } from './api/stream-stats.js';
import { type StreamsApiOptions, streamsApi } from './api/streams.js';
import { type MetricsGather, metricsHandler } from './metrics.js';
import { pageRoutes } from './pages.js';
import { type FileCheck, serveProtected } from './protected-files.js';
import { sendJson, sendRouterJsonError } from './respond.js';
import { Router } from './router.js';
import { guardHttpServer } from './server-guards.js';
import { type StaticOptions, serveStatic } from './static-files.js';

export interface WebServerOptions {
  readonly hub: StreamHub;
  readonly log: Logger;
  readonly dataDir: string;
  readonly stats: StreamStats;
  /** DELETE /api/streams/… needs it; undefined: the admin API is off. */
  readonly adminToken?: string;
  /** Connection meters of the other ports ('rtmp', 'http'); the web port's own is added here. */
  readonly meters?: Readonly<Record<string, ConnectionMeter>>;
  /** The ports actually bound, once the servers listen (for /api/server). */
  readonly ports?: () => ServerPorts | undefined;
  /** With `authFiles`: the recordings need the play credentials of their stream. */
  readonly checkFile?: FileCheck;
  /** With workers: GET /api/streams is the sum over every worker (streams.ts). */
  readonly gatherStreams?: StreamsApiOptions['gather'];
  readonly endElsewhere?: StreamsApiOptions['endElsewhere'];
  /** `GET /metrics` serves it (Prometheus text format); none: no /metrics. */
  readonly metrics?: Registry;
  /** With workers: GET /api/server and /metrics answer for the whole server (src/cluster/). */
  readonly gatherServer?: () => Promise<unknown>;
  readonly gatherMetrics?: MetricsGather;
  /** A request head must arrive within this, else 408 (default 30 s). */
  readonly headersTimeoutMs?: number;
  /** An idle kept-alive connection is closed after this (default 5 s). */
  readonly keepAliveTimeoutMs?: number;
  /** The largest request head, else 431 (default 16 KiB). */
  readonly maxHeaderBytes?: number;
  /** Where a bound passed is counted and logged (rate-limited). */
  readonly limits?: LimitHits;
}

/** Recording folders served at the same relative paths as under the data dir (CONTRACT.md). */
const RECORDING_ROOTS = ['flv', 'hls', 'mp4'];

/**
 * The recordings of `dataDir` under /flv, /hls and /mp4: the part the file gateway shares (with
 * its in-memory copy of hot files and its directory answers in `options`). With `checkFile` each
 * request needs its stream's play credentials (the origin's --auth-files).
 */
export function recordingRoutes(dataDir: string, options: StaticOptions = {}, checkFile?: FileCheck): Router {
  const r = new Router();
  for (const root of RECORDING_ROOTS) {
    r.get(`/${root}/*`, (req, res) => {
      const path = (req.url ?? '/').split('?', 1)[0]!;
      return checkFile
        ? serveProtected(req, res, dataDir, path, checkFile)
        : serveStatic(req, res, dataDir, path, options);
    });
  }
  return r;
}

/**
 * The web port (8000): the JSON API (live streams, recordings, the server), the recordings
 * (Range, caching), the player pages and the dashboard, each part a Router mounted here.
 */
export class WebServer {
  readonly server: Server;
  readonly router = new Router();
  /** The web port's connections and bytes (the API and /metrics read it). */
  readonly meter = new ConnectionMeter();
  /** This process's GET /api/server answer (a worker's part of the server's). */
  readonly describer: ServerDescriber;

  constructor(opts: WebServerOptions) {
    const web = this.meter;
    this.describer = new ServerDescriber({
      hub: opts.hub,
      meters: { ...opts.meters, web },
      ports: opts.ports ?? (() => undefined),
    });
    const api = new Router()
      .errorsAs('/', sendRouterJsonError)
      .mount(
        '/',
        streamsApi({
          hub: opts.hub,
          stats: opts.stats,
          log: opts.log,
          adminToken: opts.adminToken,
          gather: opts.gatherStreams,
          endElsewhere: opts.endElsewhere,
        }),
      )
      .mount('/', recordingsApi(opts.dataDir))
      .mount('/', serverApi(this.describer, opts.gatherServer));
    this.router.mount('/api', api).get('/healthz', (_req, res) => sendJson(res, 200, { ok: true }));
    if (opts.metrics) this.router.get('/metrics', metricsHandler(opts.metrics, opts.gatherMetrics));
    this.router.mount('/', recordingRoutes(opts.dataDir, {}, opts.checkFile)).mount('/', pageRoutes());
    const headersTimeout = opts.headersTimeoutMs ?? 30_000;
    const maxHeaderBytes = opts.maxHeaderBytes ?? 16 * 1024;
    this.server = createServer(
      {
        headersTimeout,
        keepAliveTimeout: opts.keepAliveTimeoutMs ?? 5000,
        maxHeaderSize: maxHeaderBytes,
        // node:http checks headersTimeout only this often (default 30 s).
        connectionsCheckingInterval: Math.min(1000, headersTimeout),
      },
      (req: IncomingMessage, res: ServerResponse) => this.router.handle(req, res, opts.log),
    );
    web.watch(this.server);
    guardHttpServer(this.server, opts.log, opts.limits && { hits: opts.limits, port: 'web', maxHeaderBytes });
  }

  close(): void {
    this.server.close();
    this.server.closeAllConnections();
  }
}
