import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { describeError } from '../errors.js';
import { FlvBodyPublish } from '../flv/body-publish.js';
import { CORS_HEADERS, sendError, statusOf } from '../http/respond.js';
import type { StreamHub } from '../hub/stream-hub.js';
import type { StreamName } from '../hub/stream-name.js';

export interface IngestContext {
  readonly hub: StreamHub;
  readonly log: Logger;
  readonly maxTagBytes: number;
  /** A publisher that completes no FLV tag for this long is dropped so its stream name is freed. */
  readonly idleTimeoutMs: number;
}

/**
 * `POST /{app}/{stream}` (or PUT) with an FLV body (FFmpeg `-f flv http://…` sends it chunked; a
 * plain Content-Length body works the same). The publish lasts as long as the request body.
 *
 * It begins only once the FLV header and a first whole tag have arrived (FlvBodyPublish); the
 * name, the credentials and whether the name is free are checked at once, though, so a refused
 * publisher learns it before uploading anything.
 */
export function handleIngest(
  req: IncomingMessage,
  res: ServerResponse,
  name: StreamName,
  ctx: IngestContext,
): void {
  const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
  const log = ctx.log.child({ proto: 'http-flv-publish', path: name.path, remote });
  const url = req.url ?? '';
  const query = url.includes('?') ? url.slice(url.indexOf('?')) : '';
  try {
    ctx.hub.checkPublish(name, query);
  } catch (err) {
    log.warn({ reason: describeError(err) }, 'publish refused');
    refusePublish(req, res, statusOf(err), describeError(err));
    return;
  }
  const publish = new FlvBodyPublish({
    hub: ctx.hub,
    name,
    query,
    protocol: 'http-flv',
    remote,
    log,
    maxTagBytes: ctx.maxTagBytes,
    idleTimeoutMs: ctx.idleTimeoutMs,
    onEnd: (reason, status) => {
      if (status !== undefined) refusePublish(req, res, status, reason);
      else if (!res.headersSent) {
        res.writeHead(200, { ...CORS_HEADERS, 'Content-Length': 0 });
        res.end();
      }
    },
  });
  req.on('data', (chunk: Buffer) => publish.push(chunk));
  req.on('end', () => publish.end('the request body ended'));
  req.on('close', () => publish.finish('connection closed'));
  req.on('error', (err) => publish.finish(`request error: ${err.message}`));
}

/**
 * Answers a publish that may not go on, then closes the connection instead of reading the rest
 * of its body: the publisher's next write fails, so it notices (FFmpeg reads no reply to a
 * chunked POST until the end), and a refused publisher uploads nothing more.
 */
export function refusePublish(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  message: string,
): void {
  if (!res.headersSent) res.setHeader('Connection', 'close');
  sendError(res, status, message);
  req.unpipe();
  const close = () => req.socket.end(() => req.socket.destroy());
  if (res.writableFinished) close();
  else res.on('finish', close);
}
