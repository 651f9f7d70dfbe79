import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { StreamHub } from '../hub/stream-hub.js';
import { describeTrack } from '../media/track.js';
import { CORS_HEADERS, sendError } from './respond.js';
import { serveStatic } from './static-files.js';

export interface WebServerOptions {
  readonly hub: StreamHub;
  readonly log: Logger;
  readonly dataDir: string;
}

/** Recording folders served at the same relative paths as under the data dir (CONTRACT.md). */
const RECORDING_ROOTS = ['/flv/', '/hls/', '/mp4/'];

/**
 * The web port (8000): the JSON API of live streams and the recordings (Range, caching).
 * Player pages and /metrics come with their own issues.
 */
export class WebServer {
  readonly server: Server;

  constructor(private readonly opts: WebServerOptions) {
    this.server = createServer((req, res) => this.route(req, res));
  }

  close(): void {
    this.server.close();
    this.server.closeAllConnections();
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'only GET and HEAD');
    if (path === '/api/streams') return this.json(res, this.streams());
    if (path === '/healthz') return this.json(res, { ok: true });
    if (RECORDING_ROOTS.some((r) => path.startsWith(r))) {
      serveStatic(req, res, this.opts.dataDir, path).catch((err: unknown) => {
        this.opts.log.warn({ err, path }, 'static file error');
        res.destroy();
      });
      return;
    }
    sendError(res, 404, `not found: ${path.slice(0, 200)}`);
  }

  private streams(): unknown {
    return {
      streams: this.opts.hub
        .list()
        .filter((s) => s.isLive)
        .map((s) => ({
          app: s.name.app,
          stream: s.name.stream,
          publisher: s.publisher && { protocol: s.publisher.protocol, remote: s.publisher.remote },
          publishedAt: new Date(s.publishedAt).toISOString(),
          tracks: [s.videoTrack, s.audioTrack].filter((t) => t !== undefined).map(describeTrack),
          subscribers: s.subscriberCount,
          framesIn: s.framesIn,
          bytesIn: s.bytesIn,
        })),
    };
  }

  private json(res: ServerResponse, value: unknown): void {
    const body = JSON.stringify(value);
    res.writeHead(200, {
      ...CORS_HEADERS,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-cache',
    });
    res.end(body);
  }
}
