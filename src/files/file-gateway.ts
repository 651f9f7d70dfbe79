/**
 * `estuary file-gateway`: the recordings under a root directory (the origin's data directory) at
 * the same paths as the origin's web port, for many HLS/MP4 viewers, with the same static-file
 * code (Range, conditional requests, cache headers a CDN or nginx follows), the player pages,
 * and the one shared in-memory copy of hot segments and playlists (http/file-cache.ts). Wiring,
 * the connection cap and its counters.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { FilesConfig } from '../config/schema.js';
import { type AccessLogSink, logAccess } from '../http/access-log.js';
import { recordingsApi } from '../http/api/recordings.js';
import { FileCache } from '../http/file-cache.js';
import { pageRoutes } from '../http/pages.js';
import { sendJson, sendRouterJsonError } from '../http/respond.js';
import { Router } from '../http/router.js';
import { guardHttpServer } from '../http/server-guards.js';
import { recordingRoutes } from '../http/web-server.js';
import { reachableHosts } from '../util/reachable-hosts.js';

/** Connections refused at the cap are logged at most this often (with the count since). */
const DROP_LOG_INTERVAL_MS = 10_000;

export class FileGateway {
  readonly server: Server;
  readonly router = new Router();
  /** Connections refused because `maxConnections` were open (metrics). */
  dropped = 0;
  private droppedSinceLog = 0;
  private lastDropLog = 0;
  /** Requests answered (metrics). */
  requests = 0;
  readonly files: FileCache | undefined;
  private readonly accessLog: AccessLogSink | undefined;
  private readonly accessFile: WriteStream | undefined;

  constructor(
    readonly config: FilesConfig,
    private readonly log: Logger,
  ) {
    this.files =
      config.cacheBytes > 0
        ? new FileCache({
            maxBytes: config.cacheBytes,
            maxFileBytes: config.cacheFileBytes,
            restatMs: config.restatMs,
          })
        : undefined;
    // The pages ask /api/streams whether a stream is live (a gateway has no live ports: none
    // is, so they play the recording) and /api/recordings what there is to play.
    const api = new Router()
      .errorsAs('/', sendRouterJsonError)
      .get('/streams', (_q, res) => sendJson(res, 200, { streams: [] }))
      .mount('/', recordingsApi(config.root));
    this.router
      .mount('/api', api)
      .get('/healthz', (_q, res) => sendJson(res, 200, { ok: true }))
      .get('/metrics', (_q, res) => this.sendMetrics(res))
      .mount(
        '/',
        recordingRoutes(config.root, { files: this.files, directories: config.dir ? 'list' : 'index' }),
      )
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
        // node:http checks the head timeouts only this often (default 30 s): a slowloris head
        // would otherwise live up to that long past its limit.
        connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs),
      },
      (req, res) => {
        this.requests++;
        if (this.accessLog) logAccess(this.accessLog, req, res);
        this.router.handle(req, res, log);
      },
    );
    guardHttpServer(this.server, log);
    this.server.timeout = config.idleTimeoutMs;
    this.server.maxConnections = config.maxConnections;
    this.server.on('drop', () => this.noteDrop());
  }

  async start(): Promise<number> {
    const { host, port } = this.config;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port, backlog: 4096 }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const bound = (this.server.address() as AddressInfo).port;
    const urls = reachableHosts(host).map((h) => `http://${h}:${bound}/`);
    this.log.info(
      { proto: 'files', host, port: bound, root: this.config.root, urls },
      `file gateway: ${urls.join('  ')}`,
    );
    return bound;
  }

  private stopping: Promise<void> | undefined;

  /** Closes the port and every connection, then the access log file; once, however often called. */
  stop(): Promise<void> {
    this.stopping ??= this.close();
    return this.stopping;
  }

  private async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    await new Promise<void>((resolve) => (this.accessFile ? this.accessFile.end(resolve) : resolve()));
  }

  /** The Prometheus text format (0.0.4), by hand: a handful of counters need no registry. */
  private sendMetrics(res: ServerResponse): void {
    const f = this.files;
    const lines = [
      ['estuary_files_requests_total', 'counter', 'Requests answered', this.requests],
      [
        'estuary_files_connections_refused_total',
        'counter',
        'Connections refused at max-connections',
        this.dropped,
      ],
      ['estuary_files_cache_hits_total', 'counter', 'Answers from the in-memory copy', f?.hits ?? 0],
      ['estuary_files_cache_misses_total', 'counter', 'File reads into the in-memory copy', f?.misses ?? 0],
      ['estuary_files_cache_bytes', 'gauge', 'Bytes held by the in-memory copy', f?.bytes ?? 0],
    ] as const;
    const body = lines
      .map(
        ([name, type, help, value]) => `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}\n`,
      )
      .join('');
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4', 'Cache-Control': 'no-cache' });
    res.end(body);
  }

  private noteDrop(): void {
    this.dropped++;
    this.droppedSinceLog++;
    const now = Date.now();
    if (now - this.lastDropLog < DROP_LOG_INTERVAL_MS) return;
    this.log.warn(
      { refused: this.droppedSinceLog, maxConnections: this.config.maxConnections },
      'connection limit reached: new connections refused',
    );
    this.droppedSinceLog = 0;
    this.lastDropLog = now;
  }
}
