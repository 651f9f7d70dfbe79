import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { FlvTagReader } from '../formats/flv/tag-reader.js';
import { CORS_HEADERS, describeError, sendError, statusOf } from '../http/respond.js';
import type { PublisherInfo } from '../hub/live-stream.js';
import type { StreamHub } from '../hub/stream-hub.js';
import type { StreamName } from '../hub/stream-name.js';
import { FlvTagIngest } from '../ingest/flv-tag-ingest.js';

export interface IngestContext {
  readonly hub: StreamHub;
  readonly log: Logger;
  readonly maxTagBytes: number;
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
    stream = ctx.hub.publish(name, publisher);
  } catch (err) {
    log.warn({ reason: describeError(err) }, 'publish refused');
    sendError(res, statusOf(err), describeError(err));
    req.resume();
    return;
  }
  const reader = new FlvTagReader({ maxTagSize: ctx.maxTagBytes });
  const ingest = new FlvTagIngest(stream);

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
      // The rest of the body is not read, so this connection cannot carry another request.
      if (!res.headersSent) res.setHeader('Connection', 'close');
      sendError(res, status, reason);
      // Stop reading the rest of a bad body; the socket goes once the reply is out.
      req.unpipe();
      res.on('finish', () => req.destroy());
      if (res.writableFinished) req.destroy();
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
  req.on('end', () => finish('end of request body'));
  req.on('close', () => finish('connection closed'));
  req.on('error', (err) => finish(`request error: ${err.message}`));
}
