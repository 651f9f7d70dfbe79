/**
 * `estuary file-gateway`: the recordings under a root directory (the origin's data directory) at
 * the same paths as the origin's web port, for many HLS/MP4 viewers, with the same static-file
 * code (Range, conditional requests, cache headers a CDN or nginx follows). Wiring only.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { FilesConfig } from '../config/schema.js';
import { type AccessLogSink, logAccess } from '../http/access-log.js';
import { sendJson } from '../http/respond.js';
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
  private readonly accessLog: AccessLogSink | undefined;
  private readonly accessFile: WriteStream | undefined;

  constructor(
    readonly config: FilesConfig,
    private readonly log: Logger,
  ) {
    this.router
      .get('/healthz', (_q, res) => sendJson(res, 200, { ok: true }))
      .mount('/', recordingRoutes(config.root));
    if (config.accessLog === '-') this.accessLog = process.stdout;
    else if (config.accessLog !== 'off') {
      this.accessFile = createWriteStream(config.accessLog, { flags: 'a' });
      this.accessFile.on('error', (err) => log.error({ err: err.message }, 'access log cannot be written'));
      this.accessLog = this.accessFile;
    }
    this.server = createServer(
      {
        headersTimeout: config.headersTimeoutMs,
        requestTimeout: 60_000,
        keepAliveTimeout: config.keepAliveTimeoutMs,
      },
      (req, res) => {
        if (this.accessLog) logAccess(this.accessLog, req, res);
        this.router.handle(req, res, log);
      },
    );
    guardHttpServer(this.server, log);
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

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    await new Promise<void>((resolve) => (this.accessFile ? this.accessFile.end(resolve) : resolve()));
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
