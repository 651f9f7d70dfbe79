import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { describeError } from '../errors.js';
import { FlvBodyPublish } from '../flv/body-publish.js';
import { CORS_HEADERS, sendError, statusOf } from '../http/respond.js';
import { type Admission, admit } from '../hub/admission.js';
import type { StreamHub } from '../hub/stream-hub.js';
import type { StreamName } from '../hub/stream-name.js';
import { annotateConnection } from '../net/connection-info.js';
import type { LimitHits } from '../net/limit-hits.js';

export interface IngestContext {
  readonly hub: StreamHub;
  /** What a publish goes through first (access rules, callbacks, limits); none: all admitted. */
  readonly admission?: Admission;
  readonly log: Logger;
  readonly maxTagBytes: number;
  /** A publisher that completes no FLV tag for this long is dropped so its stream name is freed. */
  readonly idleTimeoutMs: number;
  /** Where a bound passed is counted and logged (rate-limited). */
  readonly limits?: LimitHits;
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
  asked: StreamName,
  ctx: IngestContext,
): void {
  const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
  const url = req.url ?? '';
  const query = url.includes('?') ? url.slice(url.indexOf('?')) : '';
  const refuse = (err: unknown) => {
    ctx.log
      .child({ proto: 'http-flv-publish', path: asked.path, remote })
      .warn({ reason: describeError(err) }, 'publish refused');
    refusePublish(req, res, statusOf(err), describeError(err));
  };
  // The body is not read until the publish is admitted (the request stays paused till then).
  let gone = false;
  req.once('close', () => {
    gone = true;
  });
  const admitted = admittedBeforeBody.get(req);
  const start = (name: StreamName) => {
    if (gone) return;
    try {
      ctx.hub.checkPublish(name, query);
    } catch (err) {
      return refuse(err);
    }
    startPublish(req, res, name, query, remote, ctx);
  };
  if (admitted) start(admitted);
  else admit(ctx.admission, publishRequest(req, asked, query), start, refuse);
}

/** Publishes `Expect: 100-continue` already admitted (expect-continue.ts), under the admitted name. */
export const admittedBeforeBody = new WeakMap<IncomingMessage, StreamName>();

/** The admission question for an HTTP-FLV publish. */
export function publishRequest(req: IncomingMessage, name: StreamName, query: string) {
  return {
    action: 'publish' as const,
    name,
    query,
    address: req.socket.remoteAddress ?? '',
    protocol: 'http-flv',
    clientId: `${req.socket.remoteAddress}:${req.socket.remotePort}`,
    connection: req.socket,
  };
}

function startPublish(
  req: IncomingMessage,
  res: ServerResponse,
  name: StreamName,
  query: string,
  remote: string,
  ctx: IngestContext,
): void {
  const log = ctx.log.child({ proto: 'http-flv-publish', path: name.path, remote });
  annotateConnection(req.socket, { protocol: 'http-flv', role: 'publisher', path: name.path });
  const publish = new FlvBodyPublish({
    hub: ctx.hub,
    name,
    query,
    protocol: 'http-flv',
    remote,
    log,
    maxTagBytes: ctx.maxTagBytes,
    idleTimeoutMs: ctx.idleTimeoutMs,
    limits: ctx.limits,
    onEnd: (reason, status) => {
      annotateConnection(req.socket, { reason });
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
