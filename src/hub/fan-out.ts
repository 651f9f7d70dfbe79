import type { Logger } from 'pino';
import type { MediaFrame } from '../media/frame.js';
import type { Track } from '../media/track.js';
import type { LiveStream } from './live-stream.js';
import type { StreamSubscriber } from './subscriber.js';
import { DEFAULT_VIEWER_BUDGET, type Viewer, type ViewerBudget } from './viewer.js';

/**
 * Serialises stream events into one output format. Called once per event for all viewers of
 * that format: the bytes it returns are shared, never rebuilt per viewer.
 */
export interface FormatEncoder {
  /** Bytes that open the output for a joining viewer (e.g. the FLV file header); may be empty. */
  header(stream: LiveStream): Buffer | undefined;
  /** The metadata message, stamped `ts` (ms, stream clock). */
  metadata(stream: LiveStream, ts: number): Buffer | undefined;
  /** A codec sequence header stamped `ts`, or undefined when the format needs none for this track. */
  track(track: Track, ts: number): Buffer | undefined;
  frame(frame: MediaFrame): Buffer;
}

interface ViewerState {
  skipping: boolean;
  skipSince: number;
}

/**
 * Above this many viewers, writes are coalesced: frames are gathered into one shared Buffer and
 * written every `interval` ms. Writes per viewer, not bytes, are what limits scale
 * (ARCHITECTURE.md: one write per tag saturates a core near 2,500 viewers), so the interval grows
 * with the audience (10 ms per 100 viewers, at most 100 ms) while a small audience gets every
 * frame at once.
 */
const IMMEDIATE_VIEWERS = 32;
const MAX_INTERVAL_MS = 100;
/** Flush early when this much is pending, so a high-bitrate stream does not build big batches. */
const MAX_PENDING_BYTES = 1024 * 1024;
const DROP_LOG_INTERVAL_MS = 10_000;

/**
 * One output format's viewers of one stream. It is a stream subscriber: it encodes each event
 * once, batches, and writes the same Buffer to every viewer, with a byte budget per viewer
 * (over budget: skip to the next keyframe; stalled: closed) so memory stays bounded whatever the
 * viewers do.
 */
export class FanOut implements StreamSubscriber {
  private readonly viewers = new Map<Viewer, ViewerState>();
  private readonly encoded = new WeakMap<MediaFrame, Buffer>();
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Index in `pending` where the first random access point of the batch starts, or -1. */
  private resumeIndex = -1;
  private resumeDts = 0;
  private joinCache: Buffer | undefined;
  private flushTimer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  /** DTS of the newest frame, to stamp metadata and sequence headers that arrive between frames. */
  private lastDts = 0;
  private dropsSinceLog = 0;
  private lastDropLog = 0;
  /** Viewers skipped forward, in total (metrics). */
  skips = 0;

  constructor(
    private readonly stream: LiveStream,
    private readonly encoder: FormatEncoder,
    private readonly log: Logger,
    private readonly release: (fanOut: FanOut) => void,
    private readonly budget: ViewerBudget = DEFAULT_VIEWER_BUDGET,
  ) {}

  get viewerCount(): number {
    return this.viewers.size;
  }

  /**
   * Adds a viewer. If the stream is live it gets, in one write, the header, metadata, sequence
   * headers and the cached GOP, so playback starts at once.
   */
  add(viewer: Viewer): void {
    this.flush();
    const state: ViewerState = { skipping: false, skipSince: 0 };
    this.viewers.set(viewer, state);
    if (!this.stream.isLive) return;
    viewer.write(this.joinBytes());
    if (this.stream.gop.truncated || (this.stream.gop.frames.length === 0 && this.stream.videoTrack)) {
      // What the cache holds does not run up to now: wait for the next keyframe.
      state.skipping = true;
      state.skipSince = Date.now();
    }
  }

  remove(viewer: Viewer): void {
    if (!this.viewers.delete(viewer)) return;
    if (this.viewers.size === 0) {
      this.cancelFlush();
      this.pending = [];
      this.pendingBytes = 0;
      this.resumeIndex = -1;
      this.release(this);
    }
  }

  onPublish(): void {
    this.flush();
    this.lastDts = 0;
    this.joinCache = undefined;
    for (const v of this.viewers.keys()) {
      v.streamStarted?.();
      const h = this.encoder.header(this.stream);
      if (h) v.write(h);
    }
  }

  onUnpublish(_stream: LiveStream, reason: string): void {
    this.flush();
    this.joinCache = undefined;
    for (const v of [...this.viewers.keys()]) v.streamEnded(reason);
  }

  onMetadata(): void {
    const bytes = this.encoder.metadata(this.stream, this.lastDts);
    if (bytes) this.enqueue(bytes, false);
  }

  onTrack(track: Track): void {
    const bytes = this.encoder.track(track, this.lastDts);
    if (bytes) this.enqueue(bytes, false);
  }

  onFrame(frame: MediaFrame): void {
    this.lastDts = frame.dts;
    const resumable = frame.keyframe && (frame.track.kind === 'video' || !this.stream.videoTrack);
    if (resumable && this.resumeIndex < 0) this.resumeDts = frame.dts;
    this.enqueue(this.encode(frame), resumable);
  }

  /** Writes whatever is pending now. */
  flush(): void {
    this.cancelFlush();
    if (this.pending.length === 0) return;
    const batch =
      this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    let fromResume: Buffer | undefined;
    const now = Date.now();
    for (const [viewer, state] of this.viewers) {
      if (state.skipping) {
        if (this.resumeIndex >= 0 && viewer.buffered < this.budget.maxBufferedBytes / 2) {
          fromResume ??= this.resumeBytes();
          viewer.write(fromResume);
          state.skipping = false;
        } else if (now - state.skipSince > this.budget.stallTimeoutMs) {
          viewer.close(`viewer stalled: could not take data for ${this.budget.stallTimeoutMs} ms`);
        }
        continue;
      }
      if (viewer.buffered > this.budget.maxBufferedBytes) {
        state.skipping = true;
        state.skipSince = now;
        this.noteDrop();
        continue;
      }
      viewer.write(batch);
    }
    this.pending = [];
    this.pendingBytes = 0;
    this.resumeIndex = -1;
  }

  private enqueue(bytes: Buffer, resumable: boolean): void {
    this.joinCache = undefined;
    if (this.viewers.size === 0) return;
    if (resumable && this.resumeIndex < 0) this.resumeIndex = this.pending.length;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= MAX_PENDING_BYTES) this.flush();
    else this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    const n = this.viewers.size;
    if (n <= IMMEDIATE_VIEWERS) {
      this.flushTimer = setImmediate(() => {
        this.flushTimer = undefined;
        this.flush();
      });
    } else {
      const interval = Math.min(MAX_INTERVAL_MS, Math.ceil(n / 100) * 10);
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        this.flush();
      }, interval);
    }
  }

  private cancelFlush(): void {
    if (!this.flushTimer) return;
    clearImmediate(this.flushTimer as NodeJS.Immediate);
    clearTimeout(this.flushTimer as NodeJS.Timeout);
    this.flushTimer = undefined;
  }

  private encode(frame: MediaFrame): Buffer {
    let bytes = this.encoded.get(frame);
    if (!bytes) {
      bytes = this.encoder.frame(frame);
      this.encoded.set(frame, bytes);
    }
    return bytes;
  }

  /** Header, metadata, sequence headers and the GOP cache: one Buffer, rebuilt only after a change. */
  private joinBytes(): Buffer {
    if (!this.joinCache) {
      const parts = this.preamble(true);
      for (const f of this.stream.gop.frames) parts.push(this.encode(f));
      this.joinCache = Buffer.concat(parts);
    }
    return this.joinCache;
  }

  /** For a viewer coming back from a skip: the current sequence headers, then the batch from its keyframe. */
  private resumeBytes(): Buffer {
    return Buffer.concat([...this.preamble(false), ...this.pending.slice(this.resumeIndex)]);
  }

  /**
   * Header, metadata and sequence headers, stamped with the time of the first frame that follows
   * them (the GOP's keyframe on join, the resume point after a skip) so timestamps never go back.
   */
  private preamble(withHeader: boolean): Buffer[] {
    const s = this.stream;
    const ts = withHeader ? (s.gop.frames[0]?.dts ?? this.lastDts) : this.resumeDts;
    const parts: (Buffer | undefined)[] = [
      withHeader ? this.encoder.header(s) : undefined,
      this.encoder.metadata(s, ts),
      s.videoTrack && this.encoder.track(s.videoTrack, ts),
      s.audioTrack && this.encoder.track(s.audioTrack, ts),
    ];
    return parts.filter((p): p is Buffer => p !== undefined && p.length > 0);
  }

  private noteDrop(): void {
    this.skips++;
    this.dropsSinceLog++;
    const now = Date.now();
    if (now - this.lastDropLog >= DROP_LOG_INTERVAL_MS) {
      this.log.warn(
        { skipped: this.dropsSinceLog, viewers: this.viewers.size },
        'viewers too slow: skipped forward to the next keyframe',
      );
      this.dropsSinceLog = 0;
      this.lastDropLog = now;
    }
  }
}
