/**
 * One HTTP-FLV pull: `GET {upstream}/{app}/{stream}.flv` as an edge (or a worker) reads it from an
 * origin or another edge. The socket shell around an FlvTagReader: it answers, once, whether the
 * upstream sends the stream (`ready`: a 200 with FLV, the FLV header and a first whole tag), hands
 * on whole tags as they arrive, and ends in exactly one place (`onEnd`) saying why: the upstream
 * ended the stream, the connection was lost (also in the middle of a tag), the upstream stalled,
 * or it sent something that is not FLV.
 */
import { type ClientRequest, type IncomingMessage, request } from 'node:http';
import { describeError, EstuaryError } from '../errors.js';
import type { FlvTag } from '../formats/flv/tag.js';
import { FlvTagReader } from '../formats/flv/tag-reader.js';
import { TIMELINE_HEADER } from './play.js';

export interface PullOptions {
  /** No byte from the upstream for this long counts as a loss (default 10 s). */
  readonly stallTimeoutMs?: number;
  /** Connecting and the response head may take this long (default 5 s). */
  readonly connectTimeoutMs?: number;
  /** Largest FLV tag accepted. */
  readonly maxTagBytes: number;
  /** `Via` header to send (loop detection between tiers). */
  readonly via?: string;
}

export type PullEndKind = 'ended' | 'lost';

export interface PullHandlers {
  onTags(tags: FlvTag[]): void;
  /** Called once, after `ready` settled: 'ended' when the upstream closed cleanly, else 'lost'. */
  onEnd(kind: PullEndKind, reason: string): void;
}

/** Statuses an upstream answers for "no such stream" and "not allowed", and what they mean here. */
function refusal(status: number, url: string, body: string): EstuaryError {
  const said = body.trim().slice(0, 300);
  const why = `upstream ${url} answered HTTP ${status}${said ? `: ${said}` : ''}`;
  if (status === 404) return new EstuaryError('ERR_STREAM_NOT_FOUND', why);
  if (status === 401) return new EstuaryError('ERR_AUTH_REQUIRED', why);
  if (status === 403) return new EstuaryError('ERR_AUTH', why);
  // A tier further up found its own name in Via: the loop is told to the viewer as it is.
  if (status === 508) return new EstuaryError('ERR_EDGE_LOOP', why);
  return new EstuaryError('ERR_UPSTREAM', why);
}

export class HttpFlvPull {
  /**
   * Resolves, with the first tags, once the upstream answered 200 with FLV and sent the FLV
   * header and a first whole tag; later tags go to onTags. Rejects (coded) when it will not
   * send the stream: a refusal, not FLV, garbage, or nothing within the stall timeout.
   */
  readonly ready: Promise<FlvTag[]>;
  /**
   * The upstream's name for the clock of its publish (an Estuary upstream's X-Estuary-Timeline),
   * once the response head is in: the same value after a reconnect means the same timeline.
   */
  timelineId: string | undefined;
  private readonly req: ClientRequest;
  private readonly reader: FlvTagReader;
  private stallTimer: NodeJS.Timeout | undefined;
  private ended = false;
  private readyState: 'pending' | 'ok' | 'failed' = 'pending';
  private settleReady: { resolve: (tags: FlvTag[]) => void; reject: (e: Error) => void } | undefined;
  /** Bytes received from the upstream (stats). */
  bytesIn = 0;
  /** The URL without its query (which may carry credentials): what messages and logs show. */
  private readonly shownUrl: string;

  constructor(
    readonly url: string,
    private readonly handlers: PullHandlers,
    private readonly opts: PullOptions,
  ) {
    this.shownUrl = url.split('?', 1)[0]!;
    this.reader = new FlvTagReader({ maxTagSize: opts.maxTagBytes });
    this.ready = new Promise<FlvTag[]>((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    // A caller that only waits for onEnd must not see an unhandled rejection.
    this.ready.catch(() => {});
    const headers: Record<string, string> = { 'User-Agent': 'Estuary-edge' };
    if (opts.via) headers.Via = opts.via;
    this.req = request(url, { agent: false, headers, timeout: opts.connectTimeoutMs ?? 5000 });
    this.req.on('response', (res) => this.onResponse(res));
    this.req.on('timeout', () =>
      this.finish('lost', `no answer from ${this.shownUrl} in ${opts.connectTimeoutMs ?? 5000} ms`),
    );
    this.req.on('error', (err) => this.finish('lost', `${this.shownUrl}: ${err.message}`));
    this.req.end();
  }

  /** Stops the pull (no onEnd call: the caller knows why). */
  close(): void {
    this.ended = true;
    clearTimeout(this.stallTimer);
    this.fail(new EstuaryError('ERR_UPSTREAM', 'pull closed'));
    this.req.destroy();
  }

  private onResponse(res: IncomingMessage): void {
    const status = res.statusCode ?? 0;
    if (status !== 200) {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (body.length < 1024) body += d;
      });
      res.on('end', () => this.finish('lost', '', refusal(status, this.shownUrl, body)));
      res.on('error', () => this.finish('lost', '', refusal(status, this.shownUrl, body)));
      return;
    }
    const type = String(res.headers['content-type'] ?? '');
    if (!/^video\/x-flv\b/i.test(type)) {
      this.finish(
        'lost',
        '',
        new EstuaryError(
          'ERR_UPSTREAM',
          `upstream ${this.shownUrl} answered ${type || 'no Content-Type'}, not video/x-flv`,
        ),
      );
      return;
    }
    const timeline = res.headers[TIMELINE_HEADER.toLowerCase()];
    this.timelineId = typeof timeline === 'string' ? timeline : undefined;
    // The response head is in; from now on the stall timeout watches the body.
    this.req.setTimeout(0);
    this.armStall();
    res.on('data', (chunk: Buffer) => this.onData(chunk));
    res.on('end', () => {
      const partial = this.reader.bytesBuffered;
      this.finish(
        partial > 0 ? 'lost' : 'ended',
        partial > 0
          ? `the upstream closed in the middle of a tag (${partial} bytes of it received)`
          : 'the upstream ended the stream',
      );
    });
    res.on('close', () => this.finish('lost', 'connection to the upstream closed'));
    res.on('error', (err) => this.finish('lost', `upstream read error: ${err.message}`));
  }

  private onData(chunk: Buffer): void {
    if (this.ended) return;
    this.bytesIn += chunk.length;
    this.armStall();
    let tags: FlvTag[];
    try {
      tags = this.reader.push(chunk);
    } catch (err) {
      const why = `upstream sent bad FLV: ${describeError(err)}`;
      this.finish('lost', why, new EstuaryError('ERR_UPSTREAM', `${this.shownUrl}: ${why}`));
      return;
    }
    if (tags.length === 0) return;
    if (this.readyState === 'pending') {
      this.readyState = 'ok';
      this.settleReady?.resolve(tags);
      return;
    }
    this.handlers.onTags(tags);
  }

  private armStall(): void {
    const ms = this.opts.stallTimeoutMs ?? 10_000;
    clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => this.finish('lost', `upstream sent nothing for ${ms} ms`), ms);
  }

  private fail(err: Error): void {
    if (this.readyState !== 'pending') return;
    this.readyState = 'failed';
    this.settleReady?.reject(err);
  }

  /** The one place a pull ends. Before `ready` it rejects `ready`; after, it reports through onEnd. */
  private finish(kind: PullEndKind, reason: string, err?: EstuaryError): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.stallTimer);
    this.req.destroy();
    if (this.readyState === 'pending') {
      this.fail(err ?? new EstuaryError('ERR_UPSTREAM', reason));
      return;
    }
    this.handlers.onEnd(kind, reason);
  }
}
