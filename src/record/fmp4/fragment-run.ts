/**
 * Turns the segmenter's chunks into fMP4 bytes for the three listings of one recording: the
 * merged output (one moof with a traf per track, then one mdat) and the per-track outputs of
 * output_separate. A segment is one or more such fragments (CMAF chunks, ISO/IEC 23000-19 7.3.3),
 * written as they become ready. Pure: no files, no clock. Every output shares the same track timelines, so a
 * sample has the same decode time in the merged and the separate segments, and the track IDs are
 * the same everywhere (video 1, audio 2, track-box.ts), so the inits are interchangeable.
 */
import { EstuaryError } from '../../errors.js';
import { buildFragmentParts, type FragmentTrack } from '../../formats/mp4/fragment.js';
import { type TrackTimeline, timelineForTrack } from '../../formats/mp4/fragment-timing.js';
import { buildInitSegment } from '../../formats/mp4/init-segment.js';
import { AUDIO_TRACK_ID, VIDEO_TRACK_ID } from '../../formats/mp4/track-box.js';
import type { AudioTrack, VideoTrack } from '../../media/track.js';
import type { Chunk } from './segmenter.js';

export type OutputName = 'merged' | 'video' | 'audio';

export interface OutputFragment {
  /** moof, mdat header and sample payloads, ready to write in order (no media copied). */
  parts: Buffer[];
  /** Media duration (the main track's sample durations), s: what it adds to EXTINF. */
  seconds: number;
  /** mfhd sequence number (8.8.5.3): the fragment's number in its output, from 1. */
  sequence: number;
}

export type BuiltFragments = Partial<Record<OutputName, OutputFragment>>;

function seconds(t: FragmentTrack, timescale: number): number {
  let ticks = 0;
  for (const s of t.samples) ticks += s.duration;
  return ticks / timescale;
}

export class FragmentRun {
  /** Init segments: merged (every track), and one per track for output_separate. */
  readonly inits: Partial<Record<OutputName, Buffer>>;
  private readonly video: TrackTimeline | undefined;
  private readonly audio: TrackTimeline | undefined;
  private readonly sequence: Record<OutputName, number> = { merged: 0, video: 0, audio: 0 };

  constructor(tracks: { video?: VideoTrack; audio?: AudioTrack }, originMs: number) {
    if (!tracks.video && !tracks.audio) throw new EstuaryError('ERR_MP4_FORMAT', 'nothing to record');
    this.video = tracks.video && timelineForTrack(tracks.video, originMs);
    this.audio = tracks.audio && timelineForTrack(tracks.audio, originMs);
    this.inits = {
      merged: buildInitSegment(tracks),
      video: tracks.video && buildInitSegment({ video: tracks.video }),
      audio: tracks.audio && buildInitSegment({ audio: tracks.audio }),
    };
  }

  /** The bytes of one chunk for every output that has samples in it. */
  build(seg: Chunk): BuiltFragments {
    const v =
      this.video && seg.video.length > 0
        ? this.video.fragment(VIDEO_TRACK_ID, seg.video, seg.next.video)
        : undefined;
    const a =
      this.audio && seg.audio.length > 0
        ? this.audio.fragment(AUDIO_TRACK_ID, seg.audio, seg.next.audio)
        : undefined;
    const out: BuiltFragments = {};
    const vSeconds = v && this.video ? seconds(v, this.video.timescale) : 0;
    const aSeconds = a && this.audio ? seconds(a, this.audio.timescale) : 0;
    const merged = [v, a].filter((t): t is FragmentTrack => t !== undefined);
    if (merged.length === 0) return out;
    // The playlist duration follows the video: segments are cut on its keyframes.
    out.merged = this.output('merged', merged, v ? vSeconds : aSeconds);
    if (v) out.video = this.output('video', [v], vSeconds);
    if (a) out.audio = this.output('audio', [a], aSeconds);
    return out;
  }

  private output(name: OutputName, tracks: FragmentTrack[], duration: number): OutputFragment {
    const sequence = ++this.sequence[name];
    return { parts: buildFragmentParts(sequence, tracks), seconds: duration, sequence };
  }
}
