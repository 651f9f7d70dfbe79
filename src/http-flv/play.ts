import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { describeError } from '../errors.js';
import { flvFanOut } from '../flv/from-stream.js';
import {
  type PlayOptions,
  parsePlayOptions,
  playRequest,
  queryOf,
  sourceRequest,
} from '../flv/play-options.js';
import { CORS_HEADERS, sendError, statusOf } from '../http/respond.js';
import type { Admission } from '../hub/admission.js';
import { admitted } from '../hub/admission.js';
import type { LiveStream } from '../hub/live-stream.js';
import type { StreamHub } from '../hub/stream-hub.js';
import type { StreamName } from '../hub/stream-name.js';
import type { Viewer, ViewerBudget } from '../hub/viewer.js';
import { annotateConnection } from '../net/connection-info.js';

export interface PlayContext {
  readonly hub: StreamHub;
  /** What a play goes through first (access rules, callbacks, limits); none: all admitted. */
  readonly admission?: Admission;
  readonly log: Logger;
  readonly budget: ViewerBudget;
  /**
   * How long a viewer waits for a stream the hub's source is bringing (an edge's first pull);
   * the origin has no source and answers at once. Default: the hub's.
   */
  readonly sourceWaitMs?: number;
}

/** Names the publish's clock (LiveStream.timelineId) for an edge that pulls this response. */
export const TIMELINE_HEADER = 'X-Estuary-Timeline';

const PLAY_HEADERS = {
  ...CORS_HEADERS,
  'Content-Type': 'video/x-flv',
  'Cache-Control': 'no-cache, no-store',
};

const PLAY_HEAD_START = `HTTP/1.1 200 OK\r\n${Object.entries(PLAY_HEADERS)
  .map(([k, v]) => `${k}: ${v}\r\n`)
  .join('')}Connection: close\r\n`;

/** The head of each stream's current publish, made once per publish, not per viewer. */
const heads = new WeakMap<LiveStream, { timelineId: string; bytes: Buffer }>();

/**
 * The response head, written on the raw socket: the body runs until the connection closes
 * (RFC 9112 6.3 rule 8), so no chunked coding wraps each write.
 */
function playHead(stream: LiveStream): Buffer {
  const cached = heads.get(stream);
  if (cached?.timelineId === stream.timelineId) return cached.bytes;
  const bytes = Buffer.from(`${PLAY_HEAD_START}${TIMELINE_HEADER}: ${stream.timelineId}\r\n\r\n`, 'latin1');
  heads.set(stream, { timelineId: stream.timelineId, bytes });
  return bytes;
}

/**
 * `GET /{app}/{stream}.flv[?disableAudio=1|disableVideo=1|disableGop=1]`: the live stream as one
 * endless FLV response.
 *
 * node:http parses the request; the response bypasses ServerResponse and goes straight to the
 * socket. Writes per viewer are what limits scale (ARCHITECTURE.md), and ServerResponse turns
 * each write into four (chunk size, CRLF, data, CRLF, corked into one writev) plus its own
 * bookkeeping. node:http never writes on this socket again: the response is never started there.
 * The play owns the connection from here on: resolves with the viewer, which the server closes if
 * the client sends another request on it (pipelining would otherwise make one socket many viewers).
 *
 * A stream that is not live is asked of the hub's source (an edge's upstream) and waited for,
 * boundedly; without a source (the origin) the answer is an immediate 404.
 */
export async function handlePlay(
  req: IncomingMessage,
  res: ServerResponse,
  name: StreamName,
  ctx: PlayContext,
): Promise<Viewer | undefined> {
  let options: PlayOptions;
  let stream: LiveStream | undefined;
  try {
    options = parsePlayOptions(queryOf(req.url));
    await admitted(ctx.admission, playRequest(req, name, 'http-flv'));
    stream = await ctx.hub.awaitLive(name, sourceRequest(req.url, req.headers.via), ctx.sourceWaitMs);
  } catch (err) {
    const status = statusOf(err);
    ctx.log[status === 404 ? 'debug' : 'info'](
      { proto: 'http-flv-play', path: name.path, reason: describeError(err) },
      'play refused',
    );
    sendError(res, status, describeError(err));
    return undefined;
  }
  const socket = req.socket;
  // The viewer went away while the edge brought the stream.
  if (socket.destroyed) return undefined;
  if (!stream?.isLive) {
    sendError(res, 404, `stream ${name.path} is not being published`);
    return undefined;
  }
  if (req.method === 'HEAD') {
    res.writeHead(200, PLAY_HEADERS);
    res.end();
    return undefined;
  }
  // Small writes must not wait for Nagle: the first keyframe's latency matters.
  socket.setNoDelay(true);
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
      // The port's connection line (ConnectionGuard) says it, with the bytes and duration.
      annotateConnection(socket, { reason });
      socket.destroy();
    },
    streamEnded: (reason) => {
      annotateConnection(socket, { reason: `the stream ended (${reason})` });
      socket.end();
    },
  };
  const fanOut = flvFanOut(ctx.hub, stream, ctx.log, ctx.budget, options);
  // The head and the join write (header, metadata, sequence headers, GOP) leave in one send.
  socket.cork();
  socket.write(playHead(stream));
  fanOut.add(viewer, options.join);
  socket.uncork();
  const joined = stream;
  joined.viewerJoined('http-flv', socket);
  annotateConnection(socket, { protocol: 'http-flv', role: 'viewer', path: name.path });
  if (ctx.log.isLevelEnabled('debug')) {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    ctx.log.debug({ proto: 'http-flv-play', path: name.path, remote, ...options }, 'viewer joined');
  }
  socket.once('close', () => {
    closed = true;
    fanOut.remove(viewer);
    joined.viewerLeft('http-flv', socket);
  });
  return viewer;
}
