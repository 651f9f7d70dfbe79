import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { CORS_HEADERS, sendError } from '../http/respond.js';
import type { StreamHub } from '../hub/stream-hub.js';
import type { StreamName } from '../hub/stream-name.js';
import type { Viewer, ViewerBudget } from '../hub/viewer.js';
import { flvFanOut } from './from-stream.js';

export interface PlayContext {
  readonly hub: StreamHub;
  readonly log: Logger;
  readonly budget: ViewerBudget;
}

/** `GET /{app}/{stream}.flv`: the live stream as one endless FLV response. */
export function handlePlay(
  req: IncomingMessage,
  res: ServerResponse,
  name: StreamName,
  ctx: PlayContext,
): void {
  const stream = ctx.hub.get(name.path);
  if (!stream?.isLive) {
    sendError(res, 404, `stream ${name.path} is not being published`);
    return;
  }
  const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
  const log = ctx.log.child({ proto: 'http-flv-play', path: name.path, remote });
  res.writeHead(200, {
    ...CORS_HEADERS,
    'Content-Type': 'video/x-flv',
    'Cache-Control': 'no-cache, no-store',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  // Small writes must not wait for Nagle: the first keyframe's latency matters.
  req.socket.setNoDelay(true);
  let closed = false;
  const viewer: Viewer = {
    write: (buf) => {
      res.write(buf);
    },
    get buffered() {
      return res.writableLength;
    },
    close: (reason) => {
      if (closed) return;
      log.info({ reason }, 'viewer closed');
      res.destroy();
    },
    streamEnded: () => {
      res.end();
    },
  };
  const fanOut = flvFanOut(ctx.hub, stream, ctx.log, ctx.budget);
  fanOut.add(viewer);
  res.on('close', () => {
    closed = true;
    fanOut.remove(viewer);
  });
}
