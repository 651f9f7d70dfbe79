import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { flvFanOut } from '../flv/from-stream.js';
import { CORS_HEADERS, sendError } from '../http/respond.js';
import type { StreamHub } from '../hub/stream-hub.js';
import type { StreamName } from '../hub/stream-name.js';
import type { Viewer, ViewerBudget } from '../hub/viewer.js';

export interface PlayContext {
  readonly hub: StreamHub;
  readonly log: Logger;
  readonly budget: ViewerBudget;
}

const PLAY_HEADERS = {
  ...CORS_HEADERS,
  'Content-Type': 'video/x-flv',
  'Cache-Control': 'no-cache, no-store',
};

/**
 * The response head, written once on the raw socket: the body runs until the connection closes
 * (RFC 9112 6.3 rule 8), so no chunked coding wraps each write.
 */
const PLAY_HEAD = Buffer.from(
  `HTTP/1.1 200 OK\r\n${Object.entries(PLAY_HEADERS)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}Connection: close\r\n\r\n`,
  'latin1',
);

/**
 * `GET /{app}/{stream}.flv`: the live stream as one endless FLV response.
 *
 * node:http parses the request; the response bypasses ServerResponse and goes straight to the
 * socket. Writes per viewer are what limits scale (ARCHITECTURE.md), and ServerResponse turns
 * each write into four (chunk size, CRLF, data, CRLF, corked into one writev) plus its own
 * bookkeeping. node:http never writes on this socket again: the response is never started there.
 * The play owns the connection from here on: returns the viewer, which the server closes if the
 * client sends another request on it (pipelining would otherwise make one socket many viewers).
 */
export function handlePlay(
  req: IncomingMessage,
  res: ServerResponse,
  name: StreamName,
  ctx: PlayContext,
): Viewer | undefined {
  const stream = ctx.hub.get(name.path);
  if (!stream?.isLive) {
    sendError(res, 404, `stream ${name.path} is not being published`);
    return undefined;
  }
  if (req.method === 'HEAD') {
    res.writeHead(200, PLAY_HEADERS);
    res.end();
    return undefined;
  }
  const socket = req.socket;
  // Small writes must not wait for Nagle: the first keyframe's latency matters.
  socket.setNoDelay(true);
  socket.write(PLAY_HEAD);
  let closed = false;
  const viewer: Viewer = {
    write: (buf) => {
      socket.write(buf);
    },
    get buffered() {
      return socket.writableLength;
    },
    close: (reason) => {
      if (closed) return;
      closed = true;
      // The logger child is made here, not per viewer up front: thousands of idle viewers
      // should not each hold one.
      const remote = `${socket.remoteAddress}:${socket.remotePort}`;
      ctx.log.child({ proto: 'http-flv-play', path: name.path, remote }).info({ reason }, 'viewer closed');
      socket.destroy();
    },
    streamEnded: () => {
      socket.end();
    },
  };
  const fanOut = flvFanOut(ctx.hub, stream, ctx.log, ctx.budget);
  fanOut.add(viewer);
  stream.viewerJoined('http-flv', socket);
  socket.once('close', () => {
    closed = true;
    fanOut.remove(viewer);
    stream.viewerLeft('http-flv', socket);
  });
  return viewer;
}
