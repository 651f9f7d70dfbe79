/**
 * A publish whose bytes are one FLV stream, as HTTP-FLV (a POST body) and WebSocket-FLV (binary
 * messages) carry it: the rules both share, in one place. The protocol shell checks the name,
 * credentials and whether the name is free first (StreamHub.checkPublish), so a refused publisher
 * learns it before it sends anything; then it hands every chunk here and says when its input ends.
 *
 * The publish begins only once the FLV header and a first whole tag have arrived: before that
 * nothing is created, moved or recorded, so an empty or stray request cannot stand for a publish
 * session (and hide the latest recording). The idle rule counts whole tags, not bytes (a client
 * can trickle one byte a second into a tag it never finishes): the header and a first tag must
 * arrive within idleTimeoutMs, and then a tag at least every idleTimeoutMs.
 */
import type { Logger } from 'pino';
import { describeError, EstuaryError } from '../errors.js';
import { FlvTagReader } from '../formats/flv/tag-reader.js';
import { statusOf } from '../http/respond.js';
import type { LiveStream, PublisherInfo } from '../hub/live-stream.js';
import type { StreamHub } from '../hub/stream-hub.js';
import type { StreamName } from '../hub/stream-name.js';
import type { LimitHits } from '../net/limit-hits.js';
import { FlvTagIngest } from './to-stream.js';

/** How a publish ended, in HTTP terms (the WebSocket shell maps them onto close codes). */
/**
 * undefined: the input ended or the connection closed (a clean end); else an HTTP status (the
 * same table as every reply, http/respond.ts statusOf): 400 malformed FLV or input that ended
 * before the header and a first tag, 408 no header and first tag (or no later tag) within
 * idleTimeoutMs, 415 an unsupported codec, 503 the server ended it (shutdown, kick).
 */
export type PublishEndStatus = number | undefined;

export interface FlvBodyPublishOptions {
  readonly hub: StreamHub;
  readonly name: StreamName;
  /** The URL's query string (credentials), as checkPublish saw it. */
  readonly query: string;
  /** 'http-flv', 'ws-flv': for logs and the API. */
  readonly protocol: string;
  readonly remote: string;
  readonly log: Logger;
  readonly maxTagBytes: number;
  readonly idleTimeoutMs: number;
  /** Where a bound passed (idle, tag size) is counted and logged (rate-limited). */
  readonly limits?: LimitHits;
  /** Called once, when the publish (or the attempt) ends; the shell answers and closes. */
  readonly onEnd: (reason: string, status: PublishEndStatus) => void;
}

export class FlvBodyPublish {
  private done = false;
  /** Set once the first tag arrived and the hub accepted the publish. */
  private stream: LiveStream | undefined;
  private ingest: FlvTagIngest | undefined;
  private readonly reader: FlvTagReader;
  private readonly publisher: PublisherInfo;
  private progressAt = Date.now();
  private idleTimer: NodeJS.Timeout;

  constructor(private readonly opts: FlvBodyPublishOptions) {
    this.reader = new FlvTagReader({ maxTagSize: opts.maxTagBytes });
    this.publisher = { protocol: opts.protocol, remote: opts.remote, kick: (r) => this.finish(r, 503) };
    this.idleTimer = setTimeout(() => this.checkIdle(), opts.idleTimeoutMs);
  }

  get published(): boolean {
    return this.stream !== undefined;
  }

  /** Bytes of the input so far (whole tags read, and what waits to complete one). */
  get bytesReceived(): number {
    return this.reader.bytesConsumed + this.reader.bytesBuffered;
  }

  push(chunk: Buffer): void {
    if (this.done) return;
    try {
      const tags = this.reader.push(chunk);
      if (tags.length === 0) return;
      this.progressAt = Date.now();
      if (!this.ingest) {
        this.stream = this.opts.hub.publish(this.opts.name, this.publisher, this.opts.query);
        this.ingest = new FlvTagIngest(this.stream, this.opts.log);
      }
      for (const tag of tags) this.ingest.push(tag);
    } catch (err) {
      if (
        err instanceof EstuaryError &&
        err.code === 'ERR_FLV_FORMAT' &&
        /exceeds the limit/.test(err.message)
      ) {
        this.opts.limits?.hit('flv_tag_bytes', this.limitFields(), describeError(err));
      }
      this.finish(describeError(err), statusOf(err));
    }
  }

  private limitFields(): Record<string, unknown> {
    return { proto: this.opts.protocol, path: this.opts.name.path, remote: this.opts.remote };
  }

  /** The input ended (end of the request body, the WebSocket closed cleanly). */
  end(what: string): void {
    if (this.stream) {
      this.finish(what);
      return;
    }
    const err = new EstuaryError(
      'ERR_FLV_FORMAT',
      `${what} after ${this.bytesReceived} bytes, before an FLV header and a first tag: nothing was published`,
    );
    this.finish(describeError(err), 400);
  }

  /** The shell's one way to end it (connection closed, protocol error, refused input). */
  finish(reason: string, status?: PublishEndStatus): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.idleTimer);
    if (this.stream) this.opts.hub.unpublish(this.stream, this.publisher, reason);
    const fields = { reason, bytes: this.reader.bytesConsumed, published: this.stream !== undefined };
    if (status === undefined) this.opts.log.info(fields, 'publish closed');
    else this.opts.log.warn(fields, 'publish closed');
    this.opts.onEnd(reason, status);
  }

  private checkIdle(): void {
    const left = this.progressAt + this.opts.idleTimeoutMs - Date.now();
    if (left > 0) {
      this.idleTimer = setTimeout(() => this.checkIdle(), left);
      return;
    }
    const reason = this.stream
      ? `publisher sent no complete FLV tag for ${this.opts.idleTimeoutMs} ms`
      : `no FLV header and first tag within ${this.opts.idleTimeoutMs} ms`;
    this.opts.limits?.hit('idle_timeout', this.limitFields(), reason);
    this.finish(reason, 408);
  }
}
