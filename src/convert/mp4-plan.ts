/**
 * The sample tables of a fast-start MP4 built from frames as they come (pure: no files). Each
 * frame's bytes go into the mdat in arrival order (decode order, tracks interleaved as the source
 * interleaves them), so `add` returns where it will sit; a run of one track's samples that are
 * adjacent in the mdat is one chunk (SampleTableBuilder). ~17 bytes a sample, no media held.
 *
 * Timing follows fragment-timing.ts: decode times come from the ms clock converted once per sample,
 * and fixed-length audio frames (AAC 1024 samples) advance by exactly that many ticks while they
 * stay within half a frame of the clock, so durations do not jitter with ms rounding.
 */
import { EstuaryError } from '../errors.js';
import { fixedFrameSamples } from '../formats/mp4/fragment-timing.js';
import { type FastStartLayout, layoutFastStart } from '../formats/mp4/movie.js';
import { SampleTableBuilder } from '../formats/mp4/sample-table-builder.js';
import { AUDIO_TRACK_ID, trackTimescale, VIDEO_TRACK_ID } from '../formats/mp4/track-box.js';
import type { MediaFrame } from '../media/frame.js';
import { msToTimescale } from '../media/time.js';
import type { Track } from '../media/track.js';
import { sameTrackConfig } from '../record/fmp4/segmenter.js';
import type { OutputTracks } from './track-gate.js';

/** A lone sample's duration, when nothing measures it: 1/25 s video, 20 ms audio. */
const DEFAULT_VIDEO_MS = 40;
const DEFAULT_AUDIO_MS = 20;

class TrackPlan {
  readonly builder: SampleTableBuilder;
  readonly timescale: number;
  private readonly fixed: number | undefined;
  firstDts: number | undefined;
  firstPts = Number.POSITIVE_INFINITY;
  private expected: number | undefined;
  private last = -1;
  private lastDuration: number | undefined;
  private held: { size: number; dts: number; cts: number; keyframe: boolean; at: number } | undefined;

  constructor(
    readonly track: Track,
    trackId: number,
    private readonly originMs: number,
  ) {
    this.timescale = trackTimescale(track);
    this.fixed = fixedFrameSamples(track);
    this.builder = new SampleTableBuilder(track, trackId, this.timescale);
  }

  add(frame: MediaFrame, at: number): void {
    let t = msToTimescale(frame.dts - this.originMs, this.timescale);
    if (
      this.fixed !== undefined &&
      this.expected !== undefined &&
      Math.abs(t - this.expected) <= this.fixed / 2
    )
      t = this.expected;
    // Decode times never go backwards (8.6.1.2: sample deltas are unsigned).
    t = Math.max(t, this.last, 0);
    if (this.fixed !== undefined) this.expected = t + this.fixed;
    const cts = msToTimescale(frame.pts - frame.dts, this.timescale);
    this.firstDts ??= t;
    this.firstPts = Math.min(this.firstPts, t + cts);
    if (this.held) this.release(t - this.held.dts);
    this.held = { size: frame.data.length, dts: t, cts, keyframe: frame.keyframe, at };
    this.last = t;
  }

  finish(): void {
    if (!this.held) return;
    const defaultMs = this.track.kind === 'video' ? DEFAULT_VIDEO_MS : DEFAULT_AUDIO_MS;
    this.release(this.fixed ?? this.lastDuration ?? msToTimescale(defaultMs, this.timescale));
  }

  private release(duration: number): void {
    const h = this.held!;
    this.builder.add({ size: h.size, duration, compositionOffset: h.cts, keyframe: h.keyframe }, h.at);
    this.lastDuration = duration;
    this.held = undefined;
  }
}

export class Mp4Plan {
  private readonly plans: TrackPlan[] = [];
  private payload = 0;
  private frames = 0;

  /** `originMs`: the dts that becomes decode time 0 (the earliest first dts of the tracks). */
  constructor(tracks: OutputTracks, originMs: number) {
    if (tracks.video) this.plans.push(new TrackPlan(tracks.video, VIDEO_TRACK_ID, originMs));
    if (tracks.audio) this.plans.push(new TrackPlan(tracks.audio, AUDIO_TRACK_ID, originMs));
    if (this.plans.length === 0) throw new EstuaryError('ERR_MP4_FORMAT', 'an MP4 needs a track');
  }

  get frameCount(): number {
    return this.frames;
  }

  /** Records one frame; returns its offset in the mdat payload. */
  add(frame: MediaFrame): number {
    const plan = this.plans.find((p) => p.track.kind === frame.track.kind);
    if (!plan) throw new EstuaryError('ERR_MP4_FORMAT', `no ${frame.track.kind} track in this MP4`);
    if (!sameTrackConfig(plan.track, frame.track)) {
      throw new EstuaryError(
        'ERR_CODEC_UNSUPPORTED',
        `the ${frame.track.kind} configuration changes at ${(frame.dts / 1000).toFixed(3)} s; an MP4 ` +
          'holds one sample description per track, so the output stops there (convert to .flv or .m3u8 to keep it all)',
      );
    }
    const at = this.payload;
    plan.add(frame, at);
    this.payload += frame.data.length;
    this.frames++;
    return at;
  }

  /**
   * ftyp, moov and the mdat header. The track whose first picture or sound comes first starts
   * the movie; the other gets an empty edit of the difference (14496-12 8.6.6), and each track's
   * edit starts at its first composition time (B-frames put it after the first decode time), so
   * A/V keep the source's offsets, as in the fMP4 merge (record/fmp4/merge-mp4.ts).
   */
  layout(): FastStartLayout {
    const used = this.plans.filter((p) => p.firstDts !== undefined);
    if (used.length === 0) throw new EstuaryError('ERR_MP4_FORMAT', 'no frames to write');
    for (const p of used) p.finish();
    const startSec = Math.min(...used.map((p) => p.firstPts / p.timescale));
    const tables = used.map((p) => {
      p.builder.startTime = Math.max(0, Math.round(p.firstPts - startSec * p.timescale));
      p.builder.mediaTime = Math.max(0, p.firstPts - p.firstDts!);
      return p.builder.finish();
    });
    return layoutFastStart(tables, this.payload);
  }
}
