/**
 * Collects one track's per-sample table (size, duration, composition offset, sync) and its chunks
 * in growable typed arrays: ~17 bytes per sample, so a 30-minute recording (~45k video + ~78k
 * audio samples) needs about 2 MB, not 120k objects. Used by the fMP4 → MP4 merge: feed it each
 * trun sample and where the sample will sit in the final mdat, then hand finish() to movie.ts.
 */
import { EstuaryError } from '../../errors.js';
import type { Track } from '../../media/track.js';
import type { MovieTrackTables } from './movie.js';

function grow<T extends Uint32Array | Int32Array | Float64Array>(arr: T, need: number): T {
  if (need <= arr.length) return arr;
  const next = new (arr.constructor as new (n: number) => T)(Math.max(need, arr.length * 2));
  next.set(arr);
  return next;
}

export interface BuilderSample {
  size: number;
  duration: number;
  compositionOffset: number;
  keyframe: boolean;
}

export class SampleTableBuilder {
  private count = 0;
  private sizes = new Uint32Array(1024);
  private durations = new Uint32Array(1024);
  private cts = new Int32Array(1024);
  private anyCts = false;
  private syncCount = 0;
  private sync = new Uint32Array(64);
  private chunkCount = 0;
  private chunkCounts = new Uint32Array(256);
  private chunkOffsets = new Float64Array(256);
  private nextContiguous = -1;

  constructor(
    readonly track: Track,
    readonly trackId: number,
    readonly timescale: number,
    /** Decode time (ticks) of the first sample relative to the movie start (an empty edit when > 0). */
    public startTime = 0,
    /** Composition time of the first sample shown (MovieTrackTables.mediaTime). */
    public mediaTime = 0,
  ) {}

  get sampleCount(): number {
    return this.count;
  }

  /**
   * Appends a sample stored at `mdatOffset` (bytes from the start of the mdat payload). A sample
   * that does not directly follow this track's previous sample starts a new chunk (8.7.4).
   */
  add(s: BuilderSample, mdatOffset: number): void {
    if (!Number.isInteger(s.size) || s.size < 0 || s.duration < 0 || !Number.isInteger(s.duration)) {
      throw new EstuaryError('ERR_MP4_FORMAT', `bad sample size ${s.size} / duration ${s.duration}`);
    }
    const n = this.count;
    this.sizes = grow(this.sizes, n + 1);
    this.durations = grow(this.durations, n + 1);
    this.cts = grow(this.cts, n + 1);
    this.sizes[n] = s.size;
    this.durations[n] = s.duration;
    this.cts[n] = s.compositionOffset;
    if (s.compositionOffset !== 0) this.anyCts = true;
    if (s.keyframe) {
      this.sync = grow(this.sync, this.syncCount + 1);
      this.sync[this.syncCount++] = n + 1; // stss numbers samples from 1 (8.6.2.3)
    }
    if (mdatOffset !== this.nextContiguous) {
      this.chunkCounts = grow(this.chunkCounts, this.chunkCount + 1);
      this.chunkOffsets = grow(this.chunkOffsets, this.chunkCount + 1);
      this.chunkOffsets[this.chunkCount] = mdatOffset;
      this.chunkCounts[this.chunkCount++] = 0;
    }
    this.chunkCounts[this.chunkCount - 1]++;
    this.nextContiguous = mdatOffset + s.size;
    this.count = n + 1;
  }

  /** The tables, chunk offsets relative to the mdat payload (layoutFastStart makes them absolute). */
  finish(): MovieTrackTables {
    const n = this.count;
    return {
      track: this.track,
      trackId: this.trackId,
      timescale: this.timescale,
      startTime: this.startTime,
      mediaTime: this.mediaTime,
      sampleSizes: this.sizes.slice(0, n),
      sampleDurations: this.durations.slice(0, n),
      compositionOffsets: this.anyCts ? this.cts.slice(0, n) : undefined,
      // All samples sync (audio): stss omitted, 8.6.2.1.
      syncSamples: this.syncCount === n ? undefined : this.sync.slice(0, this.syncCount),
      chunkSampleCounts: this.chunkCounts.slice(0, this.chunkCount),
      chunkOffsets: this.chunkOffsets.slice(0, this.chunkCount),
    };
  }
}
