import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { StreamHub } from '../hub/stream-hub.js';
import { describeTrack } from '../media/track.js';
import { CORS_HEADERS, sendError } from './respond.js';

export interface WebServerOptions {
  readonly hub: StreamHub;
  readonly log: Logger;
  readonly dataDir: string;
}

/**
 * The web port (8000). For now: the JSON API of live streams. Recordings, player pages and
 * /metrics come with the recording and pages issues.
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
