import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { MediaFrame } from '../media/frame.js';
import type { IngestTimeline } from '../media/time.js';
import type { AudioTrack, Track, VideoTrack } from '../media/track.js';
import { describeTrack } from '../media/track.js';
import { GopCache, type GopCacheLimits } from './gop-cache.js';
import type { StreamName } from './stream-name.js';
import type { StreamSubscriber } from './subscriber.js';

export interface PublisherInfo {
  /** What published: 'rtmp', 'http-flv', … (for logs and the API only; the hub never branches on it). */
  readonly protocol: string;
  readonly remote: string;
  /**
   * A relay of a stream published elsewhere (an edge's pull, a worker's link to the worker that
   * holds the publish): what must happen once per stream, recording, skips it.
   */
  readonly relay?: boolean;
  /** Closes the publisher's connection (used when the server kicks it or shuts down). */
  readonly kick: (reason: string) => void;
  /**
   * A relay that yields to a publisher arriving here (a worker's relay of a stream whose worker
   * died, when the publisher reconnects to this worker): it stops pulling without ending the
   * stream and gives the timeline its frames were on, so the new publish goes on from there.
   */
  readonly handOver?: () => IngestTimeline;
}

/** A viewer's connection as the API reads it: bytes written so far (net.Socket has this). */
export interface ByteCounter {
  readonly bytesWritten: number;
}

export interface PublishMetadata {
  /** The onMetaData values as the publisher sent them. */
  readonly values: Readonly<Record<string, unknown>>;
  /** The AMF0 bytes "onMetaData" + object, ready to send as an FLV script tag / RTMP data message. */
  readonly body: Buffer;
}

/**
 * Events every stream of a hub adds to, read by /metrics when scraped. Each is counted once per
 * event (a viewer skipped forward, a viewer closed), never per frame or per viewer per frame.
 */
export interface HubCounters {
  /** A slow viewer skipped forward to the next keyframe (frames it did not get: that GOP's rest). */
  viewerSkips: number;
  /** A viewer closed because it could not take data for viewerStallTimeoutMs. */
  viewersStalled: number;
}

/**
 * One stream name: its publisher (at most one), metadata, current tracks, GOP cache and
 * subscribers. It never names an output protocol: outputs are subscribers.
 */
export class LiveStream {
  publisher: PublisherInfo | undefined;
  metadata: PublishMetadata | undefined;
  videoTrack: VideoTrack | undefined;
  audioTrack: AudioTrack | undefined;
  readonly gop: GopCache;
  /** Wall clock of the current publish start (ms since epoch), for the API. */
  publishedAt = 0;
  /**
   * Names the clock of the current publish: new at each publish, the same for as long as it
   * lasts (on an edge, across its upstream reconnects). Sent to HTTP-FLV viewers, so an edge
   * that reconnects to another edge can tell the same timeline (the GOP it is sent again is a
   * repeat) from a new one.
   */
  timelineId = '';
  framesIn = 0;
  bytesIn = 0;
  /**
   * The timeline of a publish that took the stream over from a relay (takeOver): its ingest maps
   * its frames onto it, so viewers see times that go on increasing. Undefined for other publishes.
   */
  handedOver: IngestTimeline | undefined;
  private readonly subscribers = new Set<StreamSubscriber>();
  /** Waiting for the first frame of the current publish (StreamHub.awaitLive); usually none. */
  private readyWaiters: (() => void)[] | undefined;
  /** Viewers by protocol ('rtmp', 'http-flv', 'ws-flv', …), counted at join and leave (for the API). */
  private readonly viewerCounts = new Map<string, number>();
  /** The connections of viewers that said which (read only when the API asks: no per-frame work). */
  private readonly viewerConns = new Set<ByteCounter>();
  /** Bytes out of viewers that left, less what the present ones had written when the publish began. */
  private bytesOutBase = 0;
  /** Told when the subscriber count changes (the hub passes it on to its source). */
  onSubscribersChanged: ((stream: LiveStream) => void) | undefined;
  /** Per-format shared outputs (one per output format), created on demand by their protocol. */
  private readonly shared = new Map<string, StreamSubscriber>();

  constructor(
    readonly name: StreamName,
    private readonly log: Logger,
    gopLimits?: GopCacheLimits,
    readonly counters: HubCounters = { viewerSkips: 0, viewersStalled: 0 },
  ) {
    this.gop = new GopCache(gopLimits);
  }

  get path(): string {
    return this.name.path;
  }

  get isLive(): boolean {
    return this.publisher !== undefined;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /**
   * A viewer of `protocol` joined (play sessions call this; recorders are not viewers). With its
   * connection (`socket`), the API can tell the bytes sent to this stream's viewers.
   */
  viewerJoined(protocol: string, conn?: ByteCounter): void {
    this.viewerCounts.set(protocol, (this.viewerCounts.get(protocol) ?? 0) + 1);
    if (conn) this.viewerConns.add(conn);
  }

  viewerLeft(protocol: string, conn?: ByteCounter): void {
    const n = (this.viewerCounts.get(protocol) ?? 0) - 1;
    if (n > 0) this.viewerCounts.set(protocol, n);
    else this.viewerCounts.delete(protocol);
    if (conn && this.viewerConns.delete(conn)) this.bytesOutBase += conn.bytesWritten;
  }

  /**
   * Bytes written to the connections of this stream's viewers since the current publish began
   * (those that passed their connection to viewerJoined), read now from the connections.
   */
  get bytesOut(): number {
    let n = this.bytesOutBase;
    for (const c of this.viewerConns) n += c.bytesWritten;
    return n;
  }

  /** Viewers now, by protocol. */
  get viewers(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.viewerCounts);
  }

  get viewerCount(): number {
    let n = 0;
    for (const c of this.viewerCounts.values()) n += c;
    return n;
  }

  /** Called by the hub. */
  startPublish(publisher: PublisherInfo): void {
    this.publisher = publisher;
    this.metadata = undefined;
    this.videoTrack = undefined;
    this.audioTrack = undefined;
    this.gop.clear();
    this.handedOver = undefined;
    this.timelineId = randomBytes(8).toString('hex');
    this.resetCounters();
    this.each((s) => s.onPublish?.(this));
  }

  /**
   * Called by the hub: `publisher` replaces a relay that handed the stream over on `timeline`.
   * For subscribers the stream goes on (no onPublish: their FLV header stands; the new publish's
   * sequence headers arrive as tracks, its times continue on `timeline`, and the timeline id stays:
   * it names one continuous clock). The GOP cache starts again, as at any publish.
   */
  takeOver(publisher: PublisherInfo, timeline: IngestTimeline): void {
    this.publisher = publisher;
    this.handedOver = timeline;
    this.gop.clear();
    this.resetCounters();
  }

  private resetCounters(): void {
    this.publishedAt = Date.now();
    this.framesIn = 0;
    this.bytesIn = 0;
    this.bytesOutBase = 0;
    for (const c of this.viewerConns) this.bytesOutBase -= c.bytesWritten;
  }

  /** Called by the hub. */
  endPublish(reason: string): void {
    if (!this.publisher) return;
    this.publisher = undefined;
    this.handedOver = undefined;
    this.wakeReadyWaiters();
    this.each((s) => s.onUnpublish?.(this, reason));
    this.gop.clear();
  }

  setMetadata(metadata: PublishMetadata): void {
    this.metadata = metadata;
    this.each((s) => s.onMetadata?.(this));
  }

  setTrack(track: Track): void {
    if (track.kind === 'video') this.videoTrack = track;
    else this.audioTrack = track;
    this.log.info({ track: describeTrack(track) }, 'track');
    this.each((s) => s.onTrack?.(track, this));
  }

  pushFrame(frame: MediaFrame): void {
    this.framesIn++;
    this.bytesIn += frame.data.length;
    this.gop.push(frame);
    if (this.readyWaiters) this.wakeReadyWaiters();
    this.each((s) => s.onFrame(frame, this));
  }

  /**
   * Resolves once the current publish has delivered a frame, or has ended, or the stream is not
   * live at all: then a joining viewer gets tracks and a GOP, not an empty start.
   */
  whenReady(): Promise<void> {
    if (!this.publisher || this.framesIn > 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.readyWaiters ??= [];
      this.readyWaiters.push(resolve);
    });
  }

  private wakeReadyWaiters(): void {
    const waiters = this.readyWaiters;
    this.readyWaiters = undefined;
    for (const w of waiters ?? []) w();
  }

  subscribe(sub: StreamSubscriber): void {
    if (this.subscribers.has(sub)) return;
    this.subscribers.add(sub);
    if (this.publisher) sub.onPublish?.(this);
    this.onSubscribersChanged?.(this);
  }

  unsubscribe(sub: StreamSubscriber): void {
    if (!this.subscribers.delete(sub)) return;
    for (const [key, s] of this.shared) if (s === sub) this.shared.delete(key);
    this.onSubscribersChanged?.(this);
  }

  /**
   * The one shared output of a format (e.g. one FLV fan-out for every HTTP-FLV and WS-FLV
   * viewer), created and subscribed on first use. The key is opaque to the hub.
   */
  sharedOutput<T extends StreamSubscriber>(key: string, create: () => T): T {
    let out = this.shared.get(key) as T | undefined;
    if (!out) {
      out = create();
      this.shared.set(key, out);
      this.subscribe(out);
    }
    return out;
  }

  private each(fn: (s: StreamSubscriber) => void): void {
    for (const s of this.subscribers) {
      try {
        fn(s);
      } catch (err) {
        this.log.error({ err }, 'a subscriber failed and was detached; the stream and other outputs go on');
        this.unsubscribe(s);
      }
    }
  }
}
