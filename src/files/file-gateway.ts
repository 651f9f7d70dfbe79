/**
 * `estuary file-gateway`: the recordings under a root directory (the origin's data directory) at
 * the same paths as the origin's web port, for many HLS/MP4 viewers, with the same static-file
 * code (Range, conditional requests, cache headers a CDN or nginx follows), the player pages,
 * and the one shared in-memory copy of hot segments and playlists (http/file-cache.ts). Wiring,
 * the connection bounds and their counters.
 */

import { createWriteStream, type WriteStream } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type ListenAt, listenPortAsync } from '../cluster/accept-mode.js';
import { type AcceptValve, acceptValve } from '../cluster/accept-valve.js';
import type { PrimaryLink } from '../cluster/worker-link.js';
import { reloadSettings } from '../config/reload.js';
import { FILES_SETTINGS, type FilesConfig } from '../config/schema.js';
import { type AccessLogSink, logAccess } from '../http/access-log.js';
import { ConnectionMeter } from '../http/api/connection-meter.js';
import { recordingsApi } from '../http/api/recordings.js';
import { FileCache } from '../http/file-cache.js';
import {
  createMetricsRegistry,
  metricsHandler,
  registerLimitMetrics,
  registerPortMetrics,
  valueCounter,
  valueGauge,
} from '../http/metrics.js';
import { pageRoutes } from '../http/pages.js';
import { sendJson, sendRouterJsonError } from '../http/respond.js';
import { Router } from '../http/router.js';
import { guardHttpServer } from '../http/server-guards.js';
import { recordingRoutes } from '../http/web-server.js';
import { ConnectionGuard, HTTP_FULL } from '../net/connection-guard.js';
import { LimitHits } from '../net/limit-hits.js';
import { HTTP_SOCKET, ServerLanes } from '../net/port-lanes.js';
import { reachableHosts } from '../util/reachable-hosts.js';

/** What a reload (SIGHUP) applies live; any other changed setting waits for a restart. */
const FILES_LIVE_SETTINGS: ReadonlySet<keyof FilesConfig> = new Set<keyof FilesConfig>([
  'logLevel',
  'maxConnections',
  'maxConnectionsPerAddress',
  'headersTimeoutMs',
  'keepAliveTimeoutMs',
  'shutdownTimeoutMs',
]);

export class FileGateway {
  readonly server: Server;
  readonly router = new Router();
  /** Bounds passed (connections, heads), counted for /metrics. */
  readonly limitHits: LimitHits;
  /** `GET /metrics` on the gateway's port: its own registry. */
  readonly metrics: Registry;
  private readonly meter = new ConnectionMeter();
  private readonly guard: ConnectionGuard;
  /** Requests answered (metrics). */
  requests = 0;
  readonly files: FileCache | undefined;
  private readonly accessLog: AccessLogSink | undefined;
  private readonly accessFile: WriteStream | undefined;
  /** Accept lanes on the port (net/accept-lanes.ts), made once it listens. */
  private readonly lanes: ServerLanes<'files'>;
  /** In a `--workers` worker: stops accepting while this worker holds maxConnections. */
  private readonly valve: AcceptValve | undefined;

  /** `link`: the worker's link to the primary, in a `--workers` worker. */
  constructor(
    public config: FilesConfig,
    private readonly log: Logger,
    link?: PrimaryLink,
  ) {
    this.limitHits = new LimitHits(log.child({ component: 'limits' }));
    this.metrics = createMetricsRegistry();
    registerPortMetrics(this.metrics, { files: this.meter });
    registerLimitMetrics(this.metrics, this.limitHits);
    this.files =
      config.cacheBytes > 0
        ? new FileCache({
            maxBytes: config.cacheBytes,
            maxFileBytes: config.cacheFileBytes,
            restatMs: config.restatMs,
            blockBytes: config.blockCacheBytes,
          })
        : undefined;
    const files = this.files;
    valueCounter(this.metrics, 'estuary_files_requests_total', 'requests answered', () => this.requests);
    valueCounter(
      this.metrics,
      'estuary_files_connections_refused_total',
      'connections refused by a bound (maxConnections, maxConnectionsPerAddress)',
      () => this.dropped,
    );
    valueCounter(
      this.metrics,
      'estuary_files_cache_hits_total',
      'answers from the in-memory copy',
      () => files?.hits ?? 0,
    );
    valueCounter(
      this.metrics,
      'estuary_files_cache_misses_total',
      'file reads into the in-memory copy',
      () => files?.misses ?? 0,
    );
    valueGauge(
      this.metrics,
      'estuary_files_cache_bytes',
      'bytes held by the in-memory copy',
      () => files?.bytes ?? 0,
    );
    valueCounter(
      this.metrics,
      'estuary_files_block_hits_total',
      'blocks of larger files sent from memory (block-cache.ts)',
      () => files?.blocks.hits ?? 0,
    );
    valueCounter(
      this.metrics,
      'estuary_files_block_misses_total',
      'blocks of larger files read from the disk',
      () => files?.blocks.misses ?? 0,
    );
    valueGauge(
      this.metrics,
      'estuary_files_block_bytes',
      'bytes held by the blocks of larger files',
      () => files?.blocks.bytes ?? 0,
    );
    valueGauge(
      this.metrics,
      'estuary_files_open_handles',
      'file handles shared by the requests of larger files (open-files.ts)',
      () => files?.openFiles.size ?? 0,
    );
    // The pages ask /api/streams whether a stream is live (a gateway has no live ports: none
    // is, so they play the recording) and /api/recordings what there is to play.
    const api = new Router()
      .errorsAs('/', sendRouterJsonError)
      .get('/streams', (_q, res) => sendJson(res, 200, { streams: [] }))
      .mount('/', recordingsApi(config.root));
    this.router
      .mount('/api', api)
      .get('/healthz', (_q, res) => sendJson(res, 200, { ok: true }))
      .get('/metrics', metricsHandler(this.metrics))
      .mount('/', recordingRoutes(config.root, { files, directories: config.dir ? 'list' : 'index' }))
      .mount('/', pageRoutes());
    if (config.accessLog === '-') this.accessLog = process.stdout;
    else if (config.accessLog !== 'off') {
      this.accessFile = createWriteStream(config.accessLog, { flags: 'a' });
      this.accessFile.on('error', (err) => log.error({ err: err.message }, 'access log cannot be written'));
      this.accessLog = this.accessFile;
    }
    this.server = createServer(
      {
        headersTimeout: config.headersTimeoutMs,
        // The whole request (a GET has no body) within the head's limit plus a little.
        requestTimeout: config.headersTimeoutMs + 1000,
        keepAliveTimeout: config.keepAliveTimeoutMs,
        maxHeaderSize: config.maxHeaderBytes,
        // node:http checks headersTimeout only this often (default 30 s).
        connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs),
      },
      (req, res) => {
        this.requests++;
        if (this.accessLog) logAccess(this.accessLog, req, res);
        this.router.handle(req, res, log);
      },
    );
    guardHttpServer(this.server, log, {
      hits: this.limitHits,
      port: 'files',
      maxHeaderBytes: config.maxHeaderBytes,
    });
    this.server.timeout = config.idleTimeoutMs;
    this.meter.watch(this.server);
    this.lanes = new ServerLanes(log, 'files', ['files'], () => this.config);
    const valve = acceptValve(link, {
      server: this.server,
      port: 'files',
      log,
      maxConnections: () => this.config.maxConnections,
      at: this.listenAt,
      onListening: this.lanes.follow('files'),
    });
    this.valve = valve;
    this.guard = new ConnectionGuard(this.server, {
      name: 'files',
      log,
      limits: () => this.config,
      hits: this.limitHits,
      refusal: HTTP_FULL,
      // The access log has a line per request already.
      closeLog: 'debug',
      valve,
    });
  }

  /** Connections refused by a bound (maxConnections, maxConnectionsPerAddress). */
  get dropped(): number {
    return this.guard.refused;
  }

  /** Applies what can change while running (bounds, timeouts, log level) from a re-read configuration (SIGHUP). */
  reconfigure(next: FilesConfig): void {
    const r = reloadSettings(FILES_SETTINGS, this.config, next, FILES_LIVE_SETTINGS, this.log);
    this.config = r.config;
    this.log.level = r.config.logLevel;
    this.server.headersTimeout = r.config.headersTimeoutMs;
    this.server.keepAliveTimeout = r.config.keepAliveTimeoutMs;
    this.lanes.refit();
  }

  private get listenAt(): ListenAt {
    return { port: this.config.port, host: this.config.host, accept: this.config.workerAccept };
  }

  async start(): Promise<number> {
    const { host } = this.config;
    const bound = await listenPortAsync(this.server, this.listenAt);
    await this.lanes.start({ files: { server: this.server, socket: HTTP_SOCKET } });
    const urls = reachableHosts(host).map((h) => `http://${h}:${bound}/`);
    this.log.info(
      { proto: 'files', host, port: bound, root: this.config.root, urls },
      `file gateway: ${urls.join('  ')}`,
    );
    return bound;
  }

  async stop(): Promise<void> {
    this.valve?.stop();
    this.lanes.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.files?.close();
    await new Promise<void>((resolve) => (this.accessFile ? this.accessFile.end(resolve) : resolve()));
  }
}
