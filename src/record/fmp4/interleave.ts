/**
 * The order in which the complete MP4 lays out its samples: runs of one track of at most
 * `maxRunSeconds` of media, the tracks taking turns in time order, as FFmpeg's mov muxer
 * interleaves. A player that reads the file front to back (over HTTP, with a bounded queue per
 * track) then always finds the other track's data close by; runs of 2 s (a whole fragment) made
 * GStreamer's qtdemux stall on a 0.5 s queue. Each run becomes one chunk (14496-12 8.7.4).
 *
 * Streaming and pure: samples go in in file order (within a fragment all of one track, then the
 * other), runs come out as soon as they are decided, so only the samples between the two tracks'
 * reading positions are held, about one fragment. Deterministic: the same input gives the same
 * runs, so the merge can plan in one pass and copy in a second without keeping the plan.
 */

export interface InterleaveSample<T> {
  trackId: number;
  /** Decode time and duration, s. */
  dts: number;
  duration: number;
  item: T;
}

export interface Run<T> {
  trackId: number;
  items: T[];
}

/** FFmpeg's mov muxer and the bound: at most half a second of one track at a time. */
export const MAX_RUN_SECONDS = 0.5;
/**
 * A track with nothing pending does not hold the other back for more than this much media: a
 * track that pauses (or never starts) must not make the other buffer without bound.
 */
const MAX_LEAD_SECONDS = 10;
/** Float slack when comparing run lengths (durations are ticks / timescale). */
const EPSILON = 1e-9;

class TrackQueue<T> {
  private items: InterleaveSample<T>[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  at(i: number): InterleaveSample<T> {
    return this.items[this.head + i];
  }

  push(s: InterleaveSample<T>): void {
    this.items.push(s);
  }

  take(n: number): InterleaveSample<T>[] {
    const out = this.items.slice(this.head, this.head + n);
    this.head += n;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  /** Media seconds pending (first start to last end). */
  span(): number {
    if (this.length === 0) return 0;
    const last = this.at(this.length - 1);
    return last.dts + last.duration - this.at(0).dts;
  }
}

export class Interleaver<T> {
  private readonly queues = new Map<number, TrackQueue<T>>();
  private last: number | undefined;

  /** `trackIds`: the tracks to expect (those of the init segment). */
  constructor(
    trackIds: readonly number[],
    private readonly maxRunSeconds = MAX_RUN_SECONDS,
  ) {
    for (const id of trackIds) this.queues.set(id, new TrackQueue());
  }

  /** A sample in file order (per track in decode order); returns the runs now decided. */
  push(s: InterleaveSample<T>): Run<T>[] {
    let q = this.queues.get(s.trackId);
    if (!q) {
      q = new TrackQueue();
      this.queues.set(s.trackId, q);
    }
    q.push(s);
    return this.drain(false);
  }

  /** The input ended: every run that is left. */
  end(): Run<T>[] {
    return this.drain(true);
  }

  private drain(ended: boolean): Run<T>[] {
    const runs: Run<T>[] = [];
    for (;;) {
      const id = this.next(ended);
      if (id === undefined) return runs;
      const q = this.queues.get(id)!;
      const n = this.runLength(q);
      // An open run (its end not known yet) waits for more input, unless the input ended or the
      // other tracks are too far ahead to wait for this one.
      if (n === q.length && !ended && this.lead() <= MAX_LEAD_SECONDS) return runs;
      runs.push({ trackId: id, items: q.take(n).map((s) => s.item) });
      this.last = id;
    }
  }

  /** Media pending in the fullest queue, s. */
  private lead(): number {
    let lead = 0;
    for (const q of this.queues.values()) lead = Math.max(lead, q.span());
    return lead;
  }

  /** Samples of the run starting at the queue's head: at most maxRunSeconds, at least one. */
  private runLength(q: TrackQueue<T>): number {
    const start = q.at(0).dts;
    let n = 1;
    while (n < q.length) {
      const s = q.at(n);
      if (s.dts + s.duration - start > this.maxRunSeconds + EPSILON) break;
      n++;
    }
    return n;
  }

  /**
   * The track whose run comes next: the earliest head, the tracks taking turns; undefined while
   * an expected track has nothing pending (its next sample may come earlier), unless the others
   * already hold more than MAX_LEAD_SECONDS or the input ended.
   */
  private next(ended: boolean): number | undefined {
    const ready: { id: number; dts: number }[] = [];
    let waiting = false;
    for (const [id, q] of this.queues) {
      if (q.length === 0) waiting = true;
      else ready.push({ id, dts: q.at(0).dts });
    }
    if (ready.length === 0) return undefined;
    if (waiting && !ended && this.lead() <= MAX_LEAD_SECONDS) return undefined;
    ready.sort((a, b) => a.dts - b.dts || a.id - b.id);
    const [first, second] = ready;
    // Two runs of one track in a row would be one long run in the file: the other track goes
    // first when it has media starting within this run.
    if (first.id === this.last && second && second.dts < first.dts + this.maxRunSeconds) return second.id;
    return first.id;
  }
}
