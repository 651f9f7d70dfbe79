/**
 * HTTP-FLV publish the way FFmpeg does it (`-f flv http://…`): one POST whose chunked body is an
 * FLV stream (RFC 9112 7.1 chunked transfer coding). The server answers only when the publish
 * ends, so an early answer is a refusal (409 name taken, 403 auth, 400 bad name) or a kick.
 */
import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { encodeFlvHeader } from '../formats/flv/header.js';
import { encodeFlvTag } from '../formats/flv/tag.js';
import { PushError } from './push-error.js';
import { connectFailure, lossSignal, type PushTarget, type TargetOptions } from './target.js';

/** Statuses that mean "this publish is not allowed", not "the server went away". */
const REFUSAL_STATUSES = new Set([400, 401, 403, 404, 405, 409, 413, 415]);
/** The reason text of an error reply is kept up to this size. */
const MAX_REASON_BYTES = 4096;

export async function openHttpFlvTarget(url: string, opts: TargetOptions = {}): Promise<PushTarget> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new PushError('usage', `not a URL: ${url}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new PushError('usage', `not an http:// or https:// URL: ${url}`);
  }
  const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, {
    method: 'POST',
    agent: false,
    headers: {
      'Content-Type': 'video/x-flv',
      'Transfer-Encoding': 'chunked',
      'User-Agent': 'Estuary-pusher',
    },
  });
  const target = new HttpFlvTarget(url, req);
  await target.connected(opts.connectTimeoutMs ?? 10_000);
  return target;
}

class HttpFlvTarget implements PushTarget {
  readonly description: string;
  readonly lost: Promise<PushError>;
  private readonly report: (err: PushError) => void;
  private failure: PushError | undefined;
  private ours = false;
  private headerSent = false;
  /** A reply has started: its end decides the outcome, not the socket closing under it. */
  private responded = false;
  /** Settles finish() when the final reply comes. */
  private onReply: ((status: number, reason: string) => void) | undefined;

  constructor(
    private readonly url: string,
    private readonly req: ClientRequest,
  ) {
    this.description = `HTTP-FLV ${url}`;
    const { lost, report } = lossSignal();
    this.lost = lost;
    this.report = report;
    req.on('response', (res) => this.onResponse(res));
    req.on('error', (err) => this.fail(new PushError('connection-lost', `${url}: ${err.message}`)));
    req.on('close', () => {
      if (!this.responded) this.fail(new PushError('connection-lost', `${url}: connection closed`));
    });
  }

  /** Resolves once the TCP connection is up and the request headers are on their way. */
  connected(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.destroy();
        reject(connectFailure(this.url, new Error(`no answer from ${this.url} in ${timeoutMs} ms`)));
      }, timeoutMs);
      const onError = (err: Error) => {
        clearTimeout(timer);
        this.ours = true;
        reject(connectFailure(this.url, err));
      };
      this.req.once('error', onError);
      this.req.once('socket', (socket) => {
        const ready = () => {
          clearTimeout(timer);
          this.req.off('error', onError);
          resolve();
        };
        if (!socket.connecting) ready();
        else socket.once('connect', ready);
      });
      this.req.flushHeaders();
    });
  }

  private onResponse(res: IncomingMessage): void {
    this.responded = true;
    const status = res.statusCode ?? 0;
    let reason = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      if (reason.length < MAX_REASON_BYTES) reason += d;
    });
    let ended = false;
    res.on('close', () => {
      if (!ended) this.fail(new PushError('connection-lost', `${this.url}: reply cut off (HTTP ${status})`));
    });
    res.on('end', () => {
      ended = true;
      const text = reason.trim().slice(0, MAX_REASON_BYTES);
      if (this.onReply) return this.onReply(status, text);
      const kind = REFUSAL_STATUSES.has(status) ? 'publish-refused' : 'connection-lost';
      this.fail(new PushError(kind, `${this.url}: HTTP ${status}${text ? `: ${text}` : ''}`));
      this.req.destroy();
    });
  }

  private fail(err: PushError): void {
    if (this.failure || this.ours) return;
    this.failure = err;
    this.report(err);
  }

  async send(type: number, timestamp: number, body: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.headerSent) {
      this.headerSent = true;
      // The FLV header's audio/video flags are advisory (E.2); players look at the tags.
      this.req.write(encodeFlvHeader({ audio: true, video: true }));
    }
    if (!this.req.write(encodeFlvTag(type, timestamp, body))) await this.drained();
    if (this.failure) throw this.failure;
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.req.off('drain', done);
        this.req.off('close', done);
        resolve();
      };
      this.req.on('drain', done);
      this.req.on('close', done);
    });
  }

  finish(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const onLost = (err: PushError) => reject(err);
      void this.lost.then(onLost);
      this.onReply = (status, text) => {
        this.ours = true;
        if (status >= 200 && status < 300) resolve();
        else {
          const kind = REFUSAL_STATUSES.has(status) ? 'publish-refused' : 'connection-lost';
          reject(new PushError(kind, `${this.url}: HTTP ${status}${text ? `: ${text}` : ''}`));
        }
      };
      this.req.end();
    });
  }

  destroy(): void {
    this.ours = true;
    this.req.destroy();
  }
}
