/**
 * The edge's StreamSource: a stream a viewer asks for is pulled once from the upstream (an origin
 * or another edge) and published into this process's hub, where the same fan-out as the origin's
 * serves every viewer. The pull survives its upstream: when the connection is lost, or the
 * upstream ends the stream, the hub's publish stays up (viewers keep their connections) while the
 * pull reconnects with backoff, and the stream goes on over one continuous timeline with whatever
 * sequence headers the upstream now sends. It ends only when the upstream has not come back
 * within `giveUpMs` (viewers are then ended cleanly), or `idleReleaseMs` after the last viewer left.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { describeError, EstuaryError } from '../errors.js';
import { FlvTagIngest } from '../flv/to-stream.js';
import type { FlvTag } from '../formats/flv/tag.js';
import { HttpFlvPull, type PullEndKind } from '../http-flv/pull.js';
import type { LiveStream, PublisherInfo } from '../hub/live-stream.js';
import type { StreamHub } from '../hub/stream-hub.js';
import type { StreamName } from '../hub/stream-name.js';
import type { SourceRequest, StreamSource } from '../hub/stream-source.js';
import { ContinuousTimeline } from './timeline.js';

export interface UpstreamOptions {
  /** `http://HOST:PORT` of the origin or edge to pull from (a path prefix is kept). */
  readonly upstream: string;
  /** First reconnect delay; doubles up to `reconnectMaxMs`. */
  readonly reconnectInitialMs: number;
  readonly reconnectMaxMs: number;
  /** Viewers are ended when the upstream has not come back for this long. */
  readonly giveUpMs: number;
  /** The pull is released this long after its last viewer left. */
  readonly idleReleaseMs: number;
  /** An upstream that sends nothing this long is lost. */
  readonly stallTimeoutMs: number;
  /** Connecting and the response head may take this long. */
  readonly connectTimeoutMs?: number;
  readonly maxTagBytes: number;
  /**
   * Where the stream is now, asked before each connection (a worker's link asks the primary which
   * worker holds the publish; a restarted publisher may come back on another one): the base URL
   * to pull from instead of `upstream`, or undefined when nobody holds it — the first connection
   * then fails with ERR_STREAM_NOT_FOUND and a reconnect waits and asks again.
   */
  readonly locate?: (name: StreamName) => Promise<string | undefined>;
  /** The name of this puller in `Via` headers (default: a random `estuary-edge-…`). */
  readonly id?: string;
  /**
   * A publisher of the name arriving in this process takes the stream over from the pull
   * (PublisherInfo.handOver): a worker's relay, whose holder died and whose publisher came back
   * here. Off on an edge, which takes no publishes.
   */
  readonly yieldToPublisher?: boolean;
}

export type PullState = 'connecting' | 'live' | 'reconnecting';

export interface PullStats {
  readonly path: string;
  /** The upstream URL of the stream, without the viewer's query. */
  readonly url: string;
  readonly state: PullState;
  readonly bytesIn: number;
  readonly reconnects: number;
  readonly since: number;
}

export class UpstreamSource implements StreamSource {
  /** This edge's name in `Via` headers: a pull that comes back to it is a loop. */
  readonly id: string;
  private readonly pulls = new Map<string, UpstreamPull>();
  /** Bytes pulled by pulls that have been released (stats: bytes in since start). */
  private releasedBytesIn = 0;

  constructor(
    private readonly hub: StreamHub,
    private readonly opts: UpstreamOptions,
    private readonly log: Logger,
  ) {
    this.id = opts.id ?? `estuary-edge-${randomBytes(4).toString('hex')}`;
  }

  /** Whether a request's `Via` chain already went through this edge. */
  isLoop(via: string | undefined): boolean {
    return via?.split(',').some((hop) => hop.trim().endsWith(this.id)) === true;
  }

  /** A request that came back through this edge is refused at once, never joined to the open. */
  admit(name: StreamName, request: SourceRequest): void {
    if (this.isLoop(request.via)) {
      throw new EstuaryError(
        'ERR_EDGE_LOOP',
        `the pull for ${name.path} came back to this edge (${this.id}): its upstream leads back to itself`,
      );
    }
  }

  async open(name: StreamName, request: SourceRequest): Promise<void> {
    this.admit(name, request);
    if (this.pulls.has(name.path)) return;
    const via = `${request.via ? `${request.via}, ` : ''}1.1 ${this.id}`;
    const pull = new UpstreamPull(this.hub, name, request.query, via, this.opts, this.log, () => {
      if (this.pulls.get(name.path) === pull) this.pulls.delete(name.path);
      this.releasedBytesIn += pull.stats().bytesIn;
    });
    this.pulls.set(name.path, pull);
    try {
      await pull.start();
    } catch (err) {
      if (this.pulls.get(name.path) === pull) this.pulls.delete(name.path);
      this.releasedBytesIn += pull.stats().bytesIn;
      throw err;
    }
  }

  subscribersChanged(stream: LiveStream): void {
    this.pulls.get(stream.path)?.subscribersChanged(stream.subscriberCount);
  }

  stats(): PullStats[] {
    return [...this.pulls.values()].map((p) => p.stats());
  }

  /** Bytes received from the upstream since the edge started, by every pull. */
  get bytesIn(): number {
    let n = this.releasedBytesIn;
    for (const p of this.pulls.values()) n += p.stats().bytesIn;
    return n;
  }

  /** Ends the pull of `path` now, if there is one (its publish ended for good upstream). */
  release(path: string, reason: string): void {
    this.pulls.get(path)?.stop(reason);
  }

  /** Whether `path` is being pulled (connecting, live or reconnecting). */
  has(path: string): boolean {
    return this.pulls.has(path);
  }

  /** Ends every pull (shutdown). */
  close(reason: string): void {
    for (const p of [...this.pulls.values()]) p.stop(reason);
  }
}

/** One stream's pull across reconnects. */
class UpstreamPull {
  private state: PullState = 'connecting';
  private pull: HttpFlvPull | undefined;
  private stream: LiveStream | undefined;
  private readonly publisher: PublisherInfo;
  private ingest: FlvTagIngest | undefined;
  private readonly timeline = new ContinuousTimeline();
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private giveUpTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private reconnects = 0;
  /** The upstream's timeline id on the last connection (HttpFlvPull.timelineId). */
  private timelineId: string | undefined;
  private bytesBefore = 0;
  private readonly since = Date.now();
  private readonly query: string;
  /** The upstream URL without the viewer's query (which may carry credentials): for logs. */
  private shownUrl: string;
  private readonly log: Logger;

  constructor(
    private readonly hub: StreamHub,
    private readonly name: StreamName,
    query: string,
    private readonly via: string,
    private readonly opts: UpstreamOptions,
    log: Logger,
    private readonly forget: () => void,
  ) {
    this.query = query;
    this.shownUrl = this.urlAt(opts.upstream);
    this.log = log.child({ proto: 'edge-pull', path: name.path });
    this.publisher = {
      protocol: 'pull',
      remote: this.shownUrl,
      relay: true,
      kick: (reason) => this.stop(reason),
      ...(opts.yieldToPublisher ? { handOver: () => this.handOver() } : {}),
    };
  }

  private urlAt(base: string): string {
    return `${base.replace(/\/+$/, '')}/${this.name.path}.flv`;
  }

  /** The base URL for the next connection: fixed, or wherever `locate` says the stream is now. */
  private async where(): Promise<string | undefined> {
    const base = this.opts.locate ? await this.opts.locate(this.name) : this.opts.upstream;
    if (base !== undefined) this.shownUrl = this.urlAt(base);
    return base;
  }

  /** The first connection: resolves once the upstream sends the stream, rejects with its refusal. */
  async start(): Promise<void> {
    if ((await this.where()) === undefined) {
      throw new EstuaryError('ERR_STREAM_NOT_FOUND', `stream ${this.name.path} is not being published`);
    }
    if (this.stopped) return;
    const pull = this.connect();
    const first = await pull.ready;
    if (this.stopped) return;
    try {
      this.stream = this.hub.publish(this.name, this.publisher);
    } catch (err) {
      pull.close();
      throw err;
    }
    this.ingest = new FlvTagIngest(this.stream, this.log, this.timeline);
    this.timelineId = pull.timelineId;
    this.state = 'live';
    this.log.info({ upstream: this.shownUrl }, 'pulling');
    // Viewers that asked may all have given up by now: the pull must still be released.
    this.subscribersChanged(this.stream.subscriberCount);
    this.onTags(pull, first);
  }

  stats(): PullStats {
    return {
      path: this.name.path,
      url: this.shownUrl,
      state: this.state,
      bytesIn: this.bytesBefore + (this.pull?.bytesIn ?? 0),
      reconnects: this.reconnects,
      since: this.since,
    };
  }

  subscribersChanged(count: number): void {
    if (this.stopped) return;
    if (count > 0) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    } else if (!this.idleTimer) {
      this.idleTimer = setTimeout(() => this.stop('no viewers'), this.opts.idleReleaseMs);
    }
  }

  /** The one place a pull ends for good: its timers, connection and entry go. */
  private end(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.giveUpTimer);
    clearTimeout(this.idleTimer);
    this.pull?.close();
    this.forget();
  }

  /** Ends the pull and the stream's publish here (viewers are ended). */
  stop(reason: string): void {
    if (this.stopped) return;
    this.end();
    if (this.stream) this.hub.unpublish(this.stream, this.publisher, reason);
    this.log.info({ reason, reconnects: this.reconnects }, 'pull released');
  }

  /**
   * A publisher arrived here (StreamHub.publish): the pull ends without ending the stream, and the
   * new publish goes on on this pull's timeline from a new clock.
   */
  private handOver(): ContinuousTimeline {
    this.end();
    this.timeline.reanchor();
    this.log.info(
      { reconnects: this.reconnects },
      'a publisher arrived here; the relay hands the stream over',
    );
    return this.timeline;
  }

  private connect(): HttpFlvPull {
    if (this.pull) this.bytesBefore += this.pull.bytesIn;
    this.log.debug(
      { upstream: this.shownUrl, attempt: this.attempt, via: this.via },
      'connecting to the upstream',
    );
    const pull = new HttpFlvPull(
      `${this.shownUrl}${this.query}`,
      {
        onTags: (tags) => this.onTags(pull, tags),
        onEnd: (kind, reason) => this.onEnd(pull, kind, reason),
      },
      {
        maxTagBytes: this.opts.maxTagBytes,
        stallTimeoutMs: this.opts.stallTimeoutMs,
        connectTimeoutMs: this.opts.connectTimeoutMs,
        via: this.via,
      },
    );
    this.pull = pull;
    return pull;
  }

  private onTags(pull: HttpFlvPull, tags: FlvTag[]): void {
    if (pull !== this.pull || this.stopped || !this.ingest) return;
    try {
      for (const t of tags) this.ingest.push(t);
    } catch (err) {
      // What the upstream sent cannot be read: drop this connection, the reconnect starts clean.
      pull.close();
      this.onEnd(pull, 'lost', `upstream sent what cannot be ingested: ${describeError(err)}`);
    }
  }

  private onEnd(pull: HttpFlvPull, kind: PullEndKind, reason: string): void {
    if (pull !== this.pull || this.stopped) return;
    this.state = 'reconnecting';
    this.log.warn({ kind, reason }, 'upstream lost; viewers stay connected while the edge reconnects');
    this.giveUpTimer ??= setTimeout(
      () => this.stop(`upstream did not come back within ${this.opts.giveUpMs} ms (${reason})`),
      this.opts.giveUpMs,
    );
    this.attempt = 0;
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    const delay = Math.min(this.opts.reconnectMaxMs, this.opts.reconnectInitialMs * 2 ** this.attempt);
    this.attempt++;
    this.retryTimer = setTimeout(() => void this.retry(), delay);
  }

  private async retry(): Promise<void> {
    if (this.stopped) return;
    const base = await this.where().catch(() => undefined);
    if (this.stopped) return;
    if (base === undefined) {
      this.scheduleRetry();
      return;
    }
    const pull = this.connect();
    let first: FlvTag[];
    try {
      first = await pull.ready;
    } catch (err) {
      if (this.stopped || pull !== this.pull) return;
      this.log.debug({ attempt: this.attempt, reason: describeError(err) }, 'reconnect failed');
      this.scheduleRetry();
      return;
    }
    if (this.stopped || pull !== this.pull) return;
    clearTimeout(this.giveUpTimer);
    this.giveUpTimer = undefined;
    // An upstream edge that still holds the same publish resends its GOP on the same clock.
    const sameClock = pull.timelineId !== undefined && pull.timelineId === this.timelineId;
    this.timelineId = pull.timelineId;
    this.ingest?.newConnection(sameClock);
    this.reconnects++;
    this.state = 'live';
    this.log.info(
      { reconnects: this.reconnects, timeline: sameClock ? 'same' : 'new' },
      'upstream back; the stream goes on',
    );
    this.onTags(pull, first);
  }
}
