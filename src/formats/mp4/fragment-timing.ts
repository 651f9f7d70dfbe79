/**
 * The "remuxer" half of fMP4 output (hls.js keeps it in mp4-remuxer.ts, apart from the box
 * writer): turns one track's MediaFrames (integer ms) into fragment samples in the track timescale.
 *
 * Decode times come from the ms clock, converted once per sample (never by summing rounded
 * durations), so a fragment's baseMediaDecodeTime is within half a tick of the ms clock however
 * long the stream runs. Codecs with a fixed frame length (AAC 1024 samples, MP3 1152/576) instead
 * advance by exactly that many ticks: ms timestamps are rounded and would give durations of
 * 1014..1058 ticks, which players hear as jitter. That exact clock is compared with the ms clock at
 * every frame, and re-synchronised when they differ by more than half a frame (a lost frame or a
 * timestamp jump), so it cannot drift either.
 */
import { EstuaryError } from '../../errors.js';
import type { MediaFrame } from '../../media/frame.js';
import { msToTimescale } from '../../media/time.js';
import type { Track } from '../../media/track.js';
import type { FragmentSample, FragmentTrack } from './fragment.js';
import { trackTimescale } from './track-box.js';

export interface TimelineOptions {
  timescale: number;
  /** Exact duration of every sample in ticks, for codecs with a fixed frame length. */
  fixedSampleDuration?: number;
  /** Duration (ticks) of a sample nothing else can measure: the very first fragment of one sample. */
  defaultSampleDuration: number;
  /** The ms time that maps to decode time 0 (frames before it are rejected). Default 0. */
  originMs?: number;
}

export class TrackTimeline {
  /** Exact decode time the next sample should have (fixed-duration codecs), once known. */
  private expectedNext: number | undefined;
  private lastDecodeTime = -1;
  private lastDuration: number | undefined;

  constructor(private readonly opts: TimelineOptions) {
    if (!(opts.timescale > 0)) throw new EstuaryError('ERR_MP4_FORMAT', `bad timescale ${opts.timescale}`);
  }

  get timescale(): number {
    return this.opts.timescale;
  }

  /** Decode time (ticks) of a frame at `dtsMs`, given the state left by the previous sample. */
  private decodeTime(dtsMs: number, expected: number | undefined, last: number): number {
    const rel = dtsMs - (this.opts.originMs ?? 0);
    if (rel < 0) throw new EstuaryError('ERR_MP4_FORMAT', `decode time ${dtsMs} ms is before the origin`);
    let t = msToTimescale(rel, this.opts.timescale);
    const fixed = this.opts.fixedSampleDuration;
    if (fixed !== undefined && expected !== undefined && Math.abs(t - expected) <= fixed / 2) t = expected;
    // Decode times never go backwards (14496-12 8.6.1.2: sample deltas are unsigned); a frame with
    // a repeated or earlier dts gets a zero-duration predecessor instead.
    return Math.max(t, last);
  }

  /**
   * Converts one fragment's frames of this track (in decode order). `nextDtsMs` is the dts of the
   * frame that will open the next fragment, when the caller already has it (a segmenter that cuts
   * on the next keyframe does): then the last duration is exact. Otherwise the last sample repeats
   * the previous duration (frame rates are steady), or the fixed or default duration; a wrong
   * guess only leaves a gap or overlap before the next fragment, whose tfdt comes from its own
   * timestamp, so the error never accumulates.
   */
  fragment(trackId: number, frames: readonly MediaFrame[], nextDtsMs?: number): FragmentTrack {
    if (frames.length === 0) throw new EstuaryError('ERR_MP4_FORMAT', 'a track fragment needs samples');
    const times: number[] = [];
    let expected = this.expectedNext;
    let last = this.lastDecodeTime;
    for (const f of frames) {
      last = this.decodeTime(f.dts, expected, last);
      times.push(last);
      if (this.opts.fixedSampleDuration !== undefined) expected = last + this.opts.fixedSampleDuration;
    }
    const nextTime = nextDtsMs === undefined ? undefined : this.decodeTime(nextDtsMs, expected, last);
    const samples: FragmentSample[] = frames.map((f, i) => {
      let duration: number;
      if (i + 1 < times.length) duration = times[i + 1] - times[i];
      else if (nextTime !== undefined) duration = nextTime - times[i];
      else {
        duration =
          this.opts.fixedSampleDuration ??
          (i > 0 ? times[i] - times[i - 1] : (this.lastDuration ?? this.opts.defaultSampleDuration));
      }
      return {
        duration,
        size: f.data.length,
        flags: { keyframe: f.keyframe },
        compositionOffset: msToTimescale(f.pts - f.dts, this.opts.timescale),
        data: f.data,
      };
    });
    const lastSample = samples[samples.length - 1];
    this.lastDecodeTime = times[times.length - 1];
    this.lastDuration = lastSample.duration;
    this.expectedNext = this.opts.fixedSampleDuration === undefined ? undefined : expected;
    return { trackId, baseMediaDecodeTime: times[0], samples };
  }
}

/** Samples per frame for codecs with a fixed frame length, or undefined. */
export function fixedFrameSamples(track: Track): number | undefined {
  if (track.kind !== 'audio') return undefined;
  // AAC-LC/HE-AAC: 1024 samples per raw_data_block at the core rate (14496-3 4.5.1.1); HE-AAC
  // signalled implicitly (sampleRate = core rate) keeps 1024 too.
  if (track.codec === 'aac') return 1024;
  // MPEG-1 Layer III: 1152 samples; MPEG-2/2.5 LSF (< 32 kHz): 576 (ISO/IEC 13818-3 2.4.2.1).
  if (track.codec === 'mp3') return track.sampleRate >= 32000 ? 1152 : 576;
  return undefined; // Opus frames vary (2.5-60 ms): use the ms clock.
}

/** A timeline with the defaults Estuary uses for a track (timescale from track-box.ts). */
export function timelineForTrack(track: Track, originMs = 0): TrackTimeline {
  const timescale = trackTimescale(track);
  const fixed = fixedFrameSamples(track);
  // Default for a lone first sample: 1/25 s for video (the most common broadcast rate), 20 ms audio.
  const defaultMs = track.kind === 'video' ? 40 : 20;
  return new TrackTimeline({
    timescale,
    fixedSampleDuration: fixed,
    defaultSampleDuration: fixed ?? msToTimescale(defaultMs, timescale),
    originMs,
  });
}
