import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { describeError, EstuaryError } from '../errors.js';
import { FlvTagIngest } from '../flv/to-stream.js';
import { FlvTagReader } from '../formats/flv/tag-reader.js';
import { CORS_HEADERS, sendError, statusOf } from '../http/respond.js';
import type { LiveStream, PublisherInfo } from '../hub/live-stream.js';
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
 * It begins only once the FLV header and a first whole tag have arrived: before that nothing is
 * created, moved or recorded, so an empty or stray POST cannot stand for a publish session (and
 * hide the latest recording). The name, the credentials and whether the name is free are checked
 * at once, though, so a refused publisher learns it before uploading anything.
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
  let done = false;
  const publisher: PublisherInfo = {
    protocol: 'http-flv',
    remote,
    kick: (reason) => finish(reason, 503),
  };
  /** Set once the first tag arrived and the hub accepted the publish. */
  let stream: LiveStream | undefined;
  let ingest: FlvTagIngest | undefined;
  const reader = new FlvTagReader({ maxTagSize: ctx.maxTagBytes });
  /**
   * The idle rule counts whole tags, not bytes (a client can trickle one byte a second into a tag
   * it never finishes): the header and a first tag must arrive within idleTimeoutMs, and then a
   * tag at least every idleTimeoutMs.
   */
  let progressAt = Date.now();
  let idleTimer = setTimeout(checkIdle, ctx.idleTimeoutMs);

  function checkIdle(): void {
    const left = progressAt + ctx.idleTimeoutMs - Date.now();
    if (left > 0) {
      idleTimer = setTimeout(checkIdle, left);
      return;
    }
    finish(
      stream
        ? `publisher sent no complete FLV tag for ${ctx.idleTimeoutMs} ms`
        : `no FLV header and first tag within ${ctx.idleTimeoutMs} ms`,
      408,
    );
  }

  // The one place this request ends; logs why, once.
  function finish(reason: string, status?: number): void {
    if (done) return;
    done = true;
    clearTimeout(idleTimer);
    if (stream) ctx.hub.unpublish(stream, publisher, reason);
    const fields = { reason, bytes: reader.bytesConsumed, published: stream !== undefined };
    if (status === undefined) {
      log.info(fields, 'publish closed');
      if (!res.headersSent) {
        res.writeHead(200, { ...CORS_HEADERS, 'Content-Length': 0 });
        res.end();
      }
    } else {
      log.warn(fields, 'publish closed');
      refusePublish(req, res, status, reason);
    }
  }

  req.on('data', (chunk: Buffer) => {
    if (done) return;
    try {
      const tags = reader.push(chunk);
      if (tags.length === 0) return;
      progressAt = Date.now();
      if (!ingest) {
        stream = ctx.hub.publish(name, publisher, query);
        ingest = new FlvTagIngest(stream, log);
      }
      for (const tag of tags) ingest.push(tag);
    } catch (err) {
      finish(describeError(err), statusOf(err));
    }
  });
  req.on('end', () => {
    if (stream) return finish('end of request body');
    const received = reader.bytesConsumed + reader.bytesBuffered;
    const err = new EstuaryError(
      'ERR_FLV_FORMAT',
      `the request body ended after ${received} bytes, before an FLV header and a first tag: nothing was published`,
    );
    finish(describeError(err), 400);
  });
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
