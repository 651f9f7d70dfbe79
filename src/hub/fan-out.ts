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
  /**
   * The metadata message, always stamped 0: FFmpeg's FLV reader (libavformat/flvdec.c,
   * flv_read_packet) skips onMetaData only at timestamp 0, and opens a data stream for one
   * stamped later, which a `-t` copy then waits on forever. Players read script tags whatever
   * their timestamp, and media timestamps are unaffected.
   */
  metadata(stream: LiveStream): Buffer | undefined;
  /** A codec sequence header stamped `ts`, or undefined when the format needs none for this track. */
  track(track: Track, ts: number): Buffer | undefined;
  frame(frame: MediaFrame): Buffer;
  /**
   * Whether this output carries a track kind at all (per-viewer options such as
   * `?disableAudio=1` make one more output that leaves a kind out). Asked once, when the fan-out
   * is made; frames, sequence headers and GOP frames of a kind it does not carry are never
   * encoded or queued. Absent: every kind.
   */
  carries?(kind: 'audio' | 'video'): boolean;
}

/**
 * Where a joining viewer starts: with the cached GOP (at once, the default), or at the next
 * keyframe after it joined (`?disableGop=1`: the lowest delay). The bytes are the same; only the
 * join differs, so both kinds of viewer share one fan-out.
 */
export type JoinMode = 'gop' | 'next-keyframe';

interface ViewerState {
  skipping: boolean;
  skipSince: number;
  /**
   * Bytes at the start of the pending batch this viewer already has: it joined after they were
   * queued, and its join write (the GOP cache) held them. Lets a join leave the batch alone
   * instead of flushing it to every other viewer.
   */
  has: number;
}

/** One batch being handed out, in slices for a large audience (FanOut.timedFlush). */
interface Round {
  batch: Buffer;
  /** The batch's parts, its first random access point and that point's DTS (for resumes). */
  pending: Buffer[];
  resumeIndex: number;
  resumeDts: number;
  /** Byte offset of the resume point in the batch, or -1. */
  resumeAt: number;
  fromResume: Buffer | undefined;
  viewers: [Viewer, ViewerState][];
  next: number;
  now: number;
}

/** The join write's cached part: preamble + the GOP frames it covers. */
interface JoinCache {
  bytes: Buffer;
  /** The GOP's first frame when built: another first frame means a new GOP. */
  head: MediaFrame | undefined;
  /** GOP frames included. */
  frames: number;
}

/**
 * Above this many viewers, writes are coalesced: frames are gathered into one shared Buffer and
 * flushed at most once per `spacing` ms. Writes per viewer, not bytes, are what limits scale:
 * a CPU profile of bench/ origin-scale at 19,500 viewers spends 54% of the server's time in the
 * send syscall (`writeBuffer`, ~9 µs per write on loopback, nearly independent of its size). So
 * the spacing grows with the audience, 1 ms per VIEWERS_PER_MS viewers: the fan-out stays near
 * VIEWERS_PER_MS × 1,000 writes a second whatever the audience, up to the MAX_INTERVAL_MS cap
 * (32,000 viewers). 64 per ms dropped 5,101 of 19,500 viewers (accept starved); 32 per ms
 * served all of them. VIEWERS_PER_MS is the default of the budget's `writesPerMs`
 * (`fanoutWritesPerMs`, split between `--workers` processes: viewer.ts viewerBudget).
 *
 * Video frames (and audio in an audio-only stream) are flushed as soon as the spacing allows,
 * on the next turn of the event loop; other audio waits up to NON_URGENT_HOLD_MS for the next
 * video frame to carry it, so a 25 fps stream costs ~25 writes a second per viewer, not ~68,
 * and the delay a video frame sees is the flush loop itself while the spacing is under the
 * frame interval (below ~1,280 viewers; bench/ latency: p50 7 ms at 1,000 viewers).
 */
const IMMEDIATE_VIEWERS = 32;
const VIEWERS_PER_MS = 32;
const MAX_INTERVAL_MS = 1000;
/** Longer than a 25 fps frame interval (40 ms), so audio normally rides with the next video frame. */
const NON_URGENT_HOLD_MS = 50;
/**
 * Viewers written per turn of the event loop when a batch goes out on the timer: 1,000 writes
 * take ~10 ms here. With 2,000 the listen queue (511) still overflowed at 19,500 viewers opened
 * at 1,000/s (first keyframe p99 1.7 s); with 1,000 it did not (p99 357 ms).
 */
const SLICE_VIEWERS = 1000;
/** Rebuild the cached join write once the frames appended after it pass this share of it. */
const JOIN_TAIL_SHARE = 0.25;
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
  private joinCache: JoinCache | undefined;
  /** The encoded metadata message (null: not encoded since the metadata last changed). */
  private metadataBytes: Buffer | undefined | null = null;
  private round: Round | undefined;
  private lastFlushAt = 0;
  /** When the scheduled flush runs (performance.now() ms), and whether it is a setTimeout. */
  private flushDue = 0;
  private flushIsTimeout = false;
  private flushTimer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  /** DTS of the newest frame, to stamp metadata and sequence headers that arrive between frames. */
  private lastDts = 0;
  private dropsSinceLog = 0;
  private lastDropLog = 0;
  /** Viewers skipped forward, in total (metrics). */
  skips = 0;
  /** The track kinds this output carries (FormatEncoder.carries), fixed at construction. */
  private readonly audio: boolean;
  private readonly video: boolean;

  constructor(
    private readonly stream: LiveStream,
    private readonly encoder: FormatEncoder,
    private readonly log: Logger,
    private readonly release: (fanOut: FanOut) => void,
    private readonly budget: ViewerBudget = DEFAULT_VIEWER_BUDGET,
  ) {
    this.audio = encoder.carries?.('audio') ?? true;
    this.video = encoder.carries?.('video') ?? true;
  }

  /** Whether the output has video to pace it and anchor resumes (else every frame is a start). */
  private get hasVideo(): boolean {
    return this.video && this.stream.videoTrack !== undefined;
  }

  private carried(frame: MediaFrame): boolean {
    return frame.track.kind === 'video' ? this.video : this.audio;
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /**
   * Adds a viewer. If the stream is live it gets the header, metadata, sequence headers and the
   * cached GOP at once (one shared Buffer, plus the frames since it was built), so playback
   * starts at once. The pending batch is not flushed for it: the join write already holds those
   * frames, so this viewer's next write starts after them (ViewerState.has).
   */
  add(viewer: Viewer, join: JoinMode = 'gop'): void {
    const state: ViewerState = { skipping: false, skipSince: 0, has: this.pendingBytes };
    this.viewers.set(viewer, state);
    if (join === 'next-keyframe') {
      // The state a viewer that fell behind is in: the next keyframe queued after now resumes
      // it with metadata and sequence headers in front (deliver). Only the file header first.
      state.skipping = true;
      state.skipSince = Date.now();
      const h = this.stream.isLive ? this.encoder.header(this.stream) : undefined;
      if (h && h.length > 0) viewer.write(h);
      return;
    }
    if (!this.stream.isLive) return;
    this.writeJoin(viewer);
    if (this.stream.gop.truncated || (this.stream.gop.frames.length === 0 && this.hasVideo)) {
      // What the cache holds does not run up to now: wait for the next keyframe.
      state.skipping = true;
      state.skipSince = Date.now();
    }
  }

  remove(viewer: Viewer): void {
    if (!this.viewers.delete(viewer)) return;
    if (this.viewers.size === 0) {
      this.cancelFlush();
      this.round = undefined;
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
    this.metadataBytes = null;
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
    this.joinCache = undefined;
    this.metadataBytes = null;
    const bytes = this.metadata();
    if (bytes) this.enqueue(bytes, false, false);
  }

  onTrack(track: Track): void {
    if (!(track.kind === 'video' ? this.video : this.audio)) return;
    this.joinCache = undefined;
    const bytes = this.encoder.track(track, this.lastDts);
    if (bytes) this.enqueue(bytes, false, false);
  }

  onFrame(frame: MediaFrame): void {
    this.lastDts = frame.dts;
    if (!this.carried(frame)) return;
    const paced = frame.track.kind === 'video' || !this.hasVideo;
    const resumable = frame.keyframe && paced;
    if (resumable && this.resumeIndex < 0) this.resumeDts = frame.dts;
    this.enqueue(this.encode(frame), resumable, paced);
  }

  /** Writes whatever is pending now (finishing first a batch still being handed out in slices). */
  flush(): void {
    this.cancelFlush();
    if (this.round) this.continueRound(Number.POSITIVE_INFINITY);
    this.startRound();
    if (this.round) this.continueRound(Number.POSITIVE_INFINITY);
  }

  /**
   * Takes the pending batch for delivery to a snapshot of the viewers. Viewers that join while
   * it is handed out are not in the snapshot and need not be: their join write holds its frames.
   */
  private startRound(): void {
    this.lastFlushAt = performance.now();
    if (this.pending.length === 0) return;
    const pending = this.pending;
    this.round = {
      batch: pending.length === 1 ? pending[0]! : Buffer.concat(pending, this.pendingBytes),
      pending,
      resumeIndex: this.resumeIndex,
      resumeDts: this.resumeDts,
      resumeAt: this.resumeOffset(),
      fromResume: undefined,
      viewers: [...this.viewers],
      next: 0,
      now: Date.now(),
    };
    this.pending = [];
    this.pendingBytes = 0;
    this.resumeIndex = -1;
  }

  /** Hands the current round to at most `max` more viewers; ends the round when all had it. */
  private continueRound(max: number): void {
    const r = this.round!;
    const end = Math.min(r.viewers.length, r.next + max);
    for (; r.next < end; r.next++) {
      const [viewer, state] = r.viewers[r.next]!;
      // Left (or left and came back as a new viewer) since the round began.
      if (this.viewers.get(viewer) !== state) continue;
      this.deliver(r, viewer, state);
    }
    if (r.next === r.viewers.length) this.round = undefined;
  }

  private deliver(r: Round, viewer: Viewer, state: ViewerState): void {
    const has = state.has;
    if (has !== 0) state.has = 0;
    if (state.skipping) {
      // A viewer that joined mid-batch resumes only from a keyframe queued after it joined.
      if (r.resumeAt >= has && viewer.buffered < this.budget.maxBufferedBytes / 2) {
        r.fromResume ??= Buffer.concat([
          ...this.preamble(false, r.resumeDts),
          ...r.pending.slice(r.resumeIndex),
        ]);
        viewer.write(r.fromResume);
        state.skipping = false;
      } else if (r.now - state.skipSince > this.budget.stallTimeoutMs) {
        this.stream.counters.viewersStalled++;
        // Counted and closed once: its socket leaves (remove) a little later.
        state.skipSince = Number.POSITIVE_INFINITY;
        viewer.close(`viewer stalled: could not take data for ${this.budget.stallTimeoutMs} ms`);
      }
      return;
    }
    if (viewer.buffered > this.budget.maxBufferedBytes) {
      state.skipping = true;
      state.skipSince = r.now;
      this.noteDrop();
      return;
    }
    if (has === 0) viewer.write(r.batch);
    else if (has < r.batch.length) viewer.write(r.batch.subarray(has));
  }

  /**
   * The timer's flush: a large audience gets the batch in slices of SLICE_VIEWERS, each on its
   * own turn of the event loop, so that accepting new connections (the poll phase) is never held
   * up by one long loop; a full listen queue drops SYNs, and a dropped SYN costs the client a
   * 1 s retransmission (measured: bench/ origin-scale at 19,500 viewers, before slicing).
   */
  private timedFlush(): void {
    this.flushTimer = undefined;
    if (!this.round) this.startRound();
    if (!this.round) return;
    this.continueRound(SLICE_VIEWERS);
    if (this.round) {
      this.flushIsTimeout = false;
      this.flushDue = 0;
      this.flushTimer = setImmediate(() => this.timedFlush());
    } else if (this.pending.length > 0) {
      this.scheduleFlush(true);
    }
  }

  /** `urgent`: a frame that paces the stream (video), flushed as soon as the spacing allows. */
  private enqueue(bytes: Buffer, resumable: boolean, urgent: boolean): void {
    if (this.viewers.size === 0) return;
    if (resumable && this.resumeIndex < 0) this.resumeIndex = this.pending.length;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= MAX_PENDING_BYTES) this.flush();
    else this.scheduleFlush(urgent);
  }

  private scheduleFlush(urgent: boolean): void {
    // A round in progress has its next slice queued; it schedules the next batch when done.
    if (this.round) return;
    const n = this.viewers.size;
    const small = n <= IMMEDIATE_VIEWERS;
    const spacing = small ? 0 : Math.min(MAX_INTERVAL_MS, n / (this.budget.writesPerMs ?? VIEWERS_PER_MS));
    const due = this.lastFlushAt + (urgent || small ? spacing : Math.max(spacing, NON_URGENT_HOLD_MS));
    if (this.flushTimer) {
      if (due >= this.flushDue) return;
      this.cancelFlush();
    }
    this.flushDue = due;
    const wait = due - performance.now();
    this.flushIsTimeout = wait >= 1;
    if (wait < 1) this.flushTimer = setImmediate(() => this.timedFlush());
    else this.flushTimer = setTimeout(() => this.timedFlush(), wait);
  }

  /** Byte offset of the batch's first random access point in the pending batch, or -1. */
  private resumeOffset(): number {
    if (this.resumeIndex < 0) return -1;
    let at = 0;
    for (let i = 0; i < this.resumeIndex; i++) at += this.pending[i]!.length;
    return at;
  }

  private cancelFlush(): void {
    const t = this.flushTimer;
    if (!t) return;
    // Each handle goes to its own clear function: clearImmediate() given a Timeout unlinks it
    // from Node's timer list as if it were an Immediate, corrupting the list it shares with
    // every other timer of the same duration.
    if (this.flushIsTimeout) clearTimeout(t as NodeJS.Timeout);
    else clearImmediate(t as NodeJS.Immediate);
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

  /**
   * Header, metadata, sequence headers and the GOP cache. The cached Buffer is shared by every
   * join until the GOP, metadata or a track changes; frames appended to the GOP since it was
   * built follow in a second write (so a join during a fast ramp does not copy the whole GOP
   * again), until they outgrow JOIN_TAIL_SHARE of it and it is rebuilt.
   */
  private writeJoin(viewer: Viewer): void {
    const frames = this.stream.gop.frames;
    let cache = this.joinCache;
    const tailFrames = cache && cache.head === frames[0] ? frames.length - cache.frames : -1;
    let tail: Buffer[] = [];
    if (cache && tailFrames >= 0) {
      let tailBytes = 0;
      for (let i = cache.frames; i < frames.length; i++) {
        if (!this.carried(frames[i]!)) continue;
        const b = this.encode(frames[i]!);
        tail.push(b);
        tailBytes += b.length;
      }
      if (tailBytes > cache.bytes.length * JOIN_TAIL_SHARE) cache = undefined;
    } else {
      cache = undefined;
    }
    if (!cache) {
      const parts = this.preamble(true);
      for (const f of frames) if (this.carried(f)) parts.push(this.encode(f));
      cache = { bytes: Buffer.concat(parts), head: frames[0], frames: frames.length };
      this.joinCache = cache;
      tail = [];
    }
    viewer.write(cache.bytes);
    if (tail.length > 0) viewer.write(tail.length === 1 ? tail[0]! : Buffer.concat(tail));
  }

  /** The metadata message, encoded once per change of the metadata (its timestamp is always 0). */
  private metadata(): Buffer | undefined {
    if (this.metadataBytes === null) this.metadataBytes = this.encoder.metadata(this.stream);
    return this.metadataBytes;
  }

  /**
   * Header, metadata and sequence headers. The sequence headers are stamped with the time of the
   * first frame that follows them (the GOP's keyframe on join, the resume point after a skip), so
   * media timestamps never go back; the metadata is stamped 0 (FormatEncoder.metadata).
   */
  private preamble(withHeader: boolean, resumeDts = 0): Buffer[] {
    const s = this.stream;
    const ts = withHeader ? (s.gop.frames[0]?.dts ?? this.lastDts) : resumeDts;
    const parts: (Buffer | undefined)[] = [
      withHeader ? this.encoder.header(s) : undefined,
      this.metadata(),
      this.video && s.videoTrack ? this.encoder.track(s.videoTrack, ts) : undefined,
      this.audio && s.audioTrack ? this.encoder.track(s.audioTrack, ts) : undefined,
    ];
    return parts.filter((p): p is Buffer => p !== undefined && p.length > 0);
  }

  private noteDrop(): void {
    this.skips++;
    this.stream.counters.viewerSkips++;
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
