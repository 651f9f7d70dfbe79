import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { StreamHub } from '../hub/stream-hub.js';
import { describeTrack } from '../media/track.js';
import { sendJson } from './respond.js';
import { Router } from './router.js';
import { guardHttpServer } from './server-guards.js';
import { serveStatic } from './static-files.js';

export interface WebServerOptions {
  readonly hub: StreamHub;
  readonly log: Logger;
  readonly dataDir: string;
}

/** Recording folders served at the same relative paths as under the data dir (CONTRACT.md). */
const RECORDING_ROOTS = ['flv', 'hls', 'mp4'];

/** The recordings of `dataDir` under /flv, /hls and /mp4: the part the file gateway shares. */
export function recordingRoutes(dataDir: string): Router {
  const r = new Router();
  for (const root of RECORDING_ROOTS) {
    r.get(`/${root}/*`, (req, res) => serveStatic(req, res, dataDir, (req.url ?? '/').split('?', 1)[0]!));
  }
  return r;
}

/**
 * The web port (8000): the JSON API of live streams and the recordings (Range, caching), on a
 * router the pages and /metrics mount their parts on.
 */
export class WebServer {
  readonly server: Server;
  readonly router = new Router();

  constructor(private readonly opts: WebServerOptions) {
    this.router
      .get('/api/streams', (_req, res) => sendJson(res, 200, this.streams()))
      .get('/healthz', (_req, res) => sendJson(res, 200, { ok: true }))
      .mount('/', recordingRoutes(opts.dataDir));
    this.server = createServer((req: IncomingMessage, res: ServerResponse) =>
      this.router.handle(req, res, opts.log),
    );
    guardHttpServer(this.server, opts.log);
  }

  close(): void {
    this.server.close();
    this.server.closeAllConnections();
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
          viewers: s.viewers,
          viewerCount: s.viewerCount,
          framesIn: s.framesIn,
          bytesIn: s.bytesIn,
        })),
    };
  }
}
