/**
 * Fragmented MP4 as a muxer object: tracks in, the init segment (ftyp + moov with mvex) and then
 * one moof + mdat per call out. It joins the three pure pieces the recorders use, the init builder
 * (init-segment.ts), the per-track timelines that turn ms into track ticks (fragment-timing.ts)
 * and the fragment box writer (fragment.ts), for callers that are not a recorder: the converter
 * and library users. Where to cut a fragment stays the caller's decision.
 */
import { EstuaryError } from '../../errors.js';
import type { MediaFrame } from '../../media/frame.js';
import type { AudioTrack, VideoTrack } from '../../media/track.js';
import { buildFragmentParts, type FragmentTrack } from './fragment.js';
import { type TrackTimeline, timelineForTrack } from './fragment-timing.js';
import { buildInitSegment } from './init-segment.js';
import { AUDIO_TRACK_ID, VIDEO_TRACK_ID } from './track-box.js';

export interface Fmp4Tracks {
  video?: VideoTrack;
  audio?: AudioTrack;
}

export interface Fmp4FragmentInput {
  /** Each track's frames in decode order. */
  video?: readonly MediaFrame[];
  audio?: readonly MediaFrame[];
  /** Per kind, the dts of the frame that follows this fragment's last one, when known: exact last durations. */
  next?: { video?: number; audio?: number };
}

export interface Fmp4Fragment {
  /** moof, mdat header and the sample payloads, to write in order (the media is not copied). */
  parts: Buffer[];
  /** Duration of the main track's samples (video when there is video), s: a playlist's EXTINF. */
  seconds: number;
}

export class Fmp4Muxer {
  /** The initialization segment: write it first (or as the HLS EXT-X-MAP). */
  readonly init: Buffer;
  private readonly video: TrackTimeline | undefined;
  private readonly audio: TrackTimeline | undefined;
  private sequence = 0;

  /** `originMs` is the dts that becomes decode time 0; frames before it are rejected. */
  constructor(tracks: Fmp4Tracks, options: { originMs?: number } = {}) {
    if (!tracks.video && !tracks.audio) throw new EstuaryError('ERR_MP4_FORMAT', 'fMP4 needs a track');
    this.init = buildInitSegment(tracks);
    const origin = options.originMs ?? 0;
    this.video = tracks.video && timelineForTrack(tracks.video, origin);
    this.audio = tracks.audio && timelineForTrack(tracks.audio, origin);
  }

  /** One movie fragment (8.8.4 moof + mdat) holding the given frames; undefined when there are none. */
  fragment(input: Fmp4FragmentInput): Fmp4Fragment | undefined {
    const tracks: FragmentTrack[] = [];
    let seconds = 0;
    const add = (
      tl: TrackTimeline | undefined,
      id: number,
      frames?: readonly MediaFrame[],
      next?: number,
    ) => {
      if (!frames || frames.length === 0) return;
      if (!tl) throw new EstuaryError('ERR_MP4_FORMAT', `track ${id} is not in the init segment`);
      const t = tl.fragment(id, frames, next);
      tracks.push(t);
      if (seconds === 0 || id === VIDEO_TRACK_ID) {
        let ticks = 0;
        for (const s of t.samples) ticks += s.duration;
        seconds = ticks / tl.timescale;
      }
    };
    add(this.video, VIDEO_TRACK_ID, input.video, input.next?.video);
    add(this.audio, AUDIO_TRACK_ID, input.audio, input.next?.audio);
    if (tracks.length === 0) return undefined;
    // 8.8.5.3: sequence numbers start at 1 and increase by one per fragment.
    return { parts: buildFragmentParts(++this.sequence, tracks), seconds };
  }
}
