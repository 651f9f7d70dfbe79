import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { describeError } from '../errors.js';
import { FlvTagIngest } from '../flv/to-stream.js';
import { FlvTagReader } from '../formats/flv/tag-reader.js';
import { CORS_HEADERS, sendError, statusOf } from '../http/respond.js';
import type { PublisherInfo } from '../hub/live-stream.js';
import type { StreamHub } from '../hub/stream-hub.js';
import type { StreamName } from '../hub/stream-name.js';

export interface IngestContext {
  readonly hub: StreamHub;
  readonly log: Logger;
  readonly maxTagBytes: number;
  /** A publisher that sends nothing for this long is dropped so its stream name is freed. */
  readonly idleTimeoutMs: number;
}

/**
 * `POST /{app}/{stream}` with an FLV body (FFmpeg `-f flv http://…` sends it chunked; a plain
 * Content-Length body works the same). The publish lasts as long as the request body.
 */
export function handleIngest(
  req: IncomingMessage,
  res: ServerResponse,
  name: StreamName,
  ctx: IngestContext,
): void {
  const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
  const log = ctx.log.child({ proto: 'http-flv-publish', path: name.path, remote });
  let done = false;
  const publisher: PublisherInfo = {
    protocol: 'http-flv',
    remote,
    kick: (reason) => finish(reason, 503),
  };
  let stream: ReturnType<StreamHub['publish']>;
  try {
    const url = req.url ?? '';
    stream = ctx.hub.publish(name, publisher, url.includes('?') ? url.slice(url.indexOf('?')) : '');
  } catch (err) {
    log.warn({ reason: describeError(err) }, 'publish refused');
    refusePublish(req, res, statusOf(err), describeError(err));
    return;
  }
  const reader = new FlvTagReader({ maxTagSize: ctx.maxTagBytes });
  const ingest = new FlvTagIngest(stream, log);

  // The one place this publish ends; logs why, once.
  function finish(reason: string, status?: number): void {
    if (done) return;
    done = true;
    ctx.hub.unpublish(stream, publisher, reason);
    if (status === undefined) {
      log.info({ reason, bytes: reader.bytesConsumed }, 'publish closed');
      if (!res.headersSent) {
        res.writeHead(200, { ...CORS_HEADERS, 'Content-Length': 0 });
        res.end();
      }
    } else {
      log.warn({ reason, bytes: reader.bytesConsumed }, 'publish closed');
      refusePublish(req, res, status, reason);
    }
  }

  req.on('data', (chunk: Buffer) => {
    if (done) return;
    try {
      for (const tag of reader.push(chunk)) ingest.push(tag);
    } catch (err) {
      finish(describeError(err), statusOf(err));
    }
  });
  // On the request, not its socket: node:http destroys a timed-out socket nobody listens for on
  // the request, and the publisher would not learn why.
  req.setTimeout(ctx.idleTimeoutMs, () => finish(`publisher sent nothing for ${ctx.idleTimeoutMs} ms`, 408));
  req.on('end', () => finish('end of request body'));
  req.on('close', () => finish('connection closed'));
  req.on('error', (err) => finish(`request error: ${err.message}`));
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
