/**
 * HTTP-FLV publish the way FFmpeg does it (`-f flv http://…`): one POST whose chunked body is an
 * FLV stream (RFC 9112 7.1 chunked transfer coding). The server answers only when the publish
 * ends, so an early answer is a refusal (409 name taken, 403 auth, 400 bad name) or a kick.
 *
 * The request asks `Expect: 100-continue` (RFC 9110 10.1.1), so a server that refuses the publish
 * says so before any media is sent: the refusal comes out of `open`, with the server's reason, and
 * a refused push ends at once instead of streaming into a closed connection. A server that does
 * not answer the expectation in CONTINUE_WAIT_MS gets the body anyway, as the RFC allows.
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
/** How long to wait for 100 Continue before sending the body regardless (RFC 9110 10.1.1). */
const CONTINUE_WAIT_MS = 2000;
/**
 * A refusing server answers and closes at once; the close (or EPIPE on our next write) can be
 * seen before the answer is read. A connection error waits this long for an answer to explain it.
 */
const ANSWER_GRACE_MS = 300;

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
      Expect: '100-continue',
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
    req.on('error', (err) => this.failLater(new PushError('connection-lost', `${url}: ${err.message}`)));
    req.on('close', () => {
      if (!this.responded) this.failLater(new PushError('connection-lost', `${url}: connection closed`));
    });
  }

  /** A connection error, reported unless an answer that explains it arrives first. */
  private failLater(err: PushError): void {
    setTimeout(() => {
      if (!this.responded) this.fail(err);
    }, ANSWER_GRACE_MS).unref();
  }

  /**
   * Resolves once the server agreed to take the body (100 Continue, or silence for
   * CONTINUE_WAIT_MS); rejects with the server's refusal, or when it cannot be reached.
   */
  connected(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (err?: PushError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(grace);
        this.req.off('error', onError);
        this.req.off('continue', onContinue);
        if (err) {
          this.ours = true;
          this.req.destroy();
          reject(err);
        } else {
          resolve();
        }
      };
      let grace: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        settle(connectFailure(this.url, new Error(`no answer from ${this.url} in ${timeoutMs} ms`)));
      }, timeoutMs);
      const onError = (err: Error) => settle(connectFailure(this.url, err));
      const onContinue = () => settle();
      this.req.once('error', onError);
      this.req.once('continue', onContinue);
      // An answer before 100 Continue is the server's verdict: a refusal, with its reason.
      void this.lost.then((err) => settle(err));
      this.req.once('socket', (socket) => {
        const up = () => {
          clearTimeout(timer);
          grace = setTimeout(() => settle(), CONTINUE_WAIT_MS);
        };
        if (!socket.connecting) up();
        else socket.once('connect', up);
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

  /**
   * Waits for room in the socket, or for the loss. A request that is already closed emits neither
   * 'drain' nor 'close' again (its write() just returned false), so waiting for those alone hung a
   * push for ever when the server dropped it mid-publish; the loss (after its grace) ends the wait.
   */
  private drained(): Promise<void> {
    if (this.req.destroyed || this.req.closed)
      return this.ours ? Promise.resolve() : this.lost.then(() => {});
    return new Promise((resolve) => {
      const done = () => {
        this.req.off('drain', done);
        this.req.off('close', done);
        resolve();
      };
      this.req.on('drain', done);
      this.req.on('close', done);
      void this.lost.then(done);
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
