/**
 * FLV and RTMP carry 32-bit millisecond timestamps, which wrap after about 49.7 days
 * (FLV spec E.4.1, RTMP spec 5.3.1.2). Everything inside Estuary uses an unwrapped,
 * monotonic millisecond clock; this is the one place that converts.
 */
const WRAP = 2 ** 32;
const HALF = 2 ** 31;

export class TimestampUnwrapper {
  private last = -1;
  private offset = 0;

  /** Turns a 32-bit wire timestamp into a monotonic one, assuming steps of less than 2^31 ms. */
  unwrap(ts32: number): number {
    const ts = ts32 >>> 0;
    if (this.last >= 0) {
      if (ts < this.last && this.last - ts > HALF) this.offset += WRAP;
      else if (ts > this.last && ts - this.last > HALF && this.offset >= WRAP) this.offset -= WRAP;
    }
    this.last = ts;
    return ts + this.offset;
  }
}

/**
 * Maps frame times onto a stream's timeline: an edge keeps one over its upstream reconnects
 * (src/edge/timeline.ts), and a publish that takes a relay's stream over goes on on it.
 */
export interface IngestTimeline {
  /**
   * The frame's decode time on the stream's timeline (its presentation time moves with it), or
   * undefined to drop it (a repeat).
   */
  map(track: 'video' | 'audio', dts: number, pts: number): number | undefined;
  /** The next frame comes over a new connection with its own clock. */
  reanchor(): void;
  /** The next frame comes over a new connection on the same clock (what it repeats is dropped). */
  resume(): void;
}

/** Back to a 32-bit wire timestamp. */
export function wrap32(ms: number): number {
  return (ms % WRAP) >>> 0;
}

/** Converts milliseconds to a timescale (e.g. 90 kHz for MPEG-TS, the track timescale in MP4). */
export function msToTimescale(ms: number, timescale: number): number {
  return Math.round((ms * timescale) / 1000);
}
