/**
 * The first step between demuxer and muxer: which tracks the output carries, and the shift that
 * makes its clock start at or above 0. Every muxer here needs its track set before its first byte
 * (the PMT, the moov, the FLV header flags), but an FLV file shows a track only with its first
 * sequence header or, for MP3 and other codecs without one, its first frame, which may come after
 * a few video frames. So the first frames are held until both a video and an audio frame came, or
 * HOLD_MS of media / HOLD_FRAMES frames went by (a file with one track is held that long, no more).
 * Pure: frames in, a decision and the held frames out.
 */
import type { MediaFrame } from '../media/frame.js';
import type { AudioTrack, VideoTrack } from '../media/track.js';

/** Media time the gate may hold, ms: far more than any muxer interleaves tracks by. */
const HOLD_MS = 3000;
/** Frames the gate may hold: bounds memory whatever the timestamps say. */
const HOLD_FRAMES = 2000;

export interface OutputTracks {
  video?: VideoTrack;
  audio?: AudioTrack;
}

export interface GateOpen {
  tracks: OutputTracks;
  /**
   * Added to every timestamp: MP4 sources with B-frames or AAC priming (edit lists) start with a
   * negative dts, which FLV (unsigned timestamps) cannot carry. 0 when nothing starts below 0.
   */
  shiftMs: number;
  /** The frames held, in the order they came, already shifted. */
  frames: MediaFrame[];
}

export function shifted(frame: MediaFrame, shiftMs: number): MediaFrame {
  if (shiftMs === 0) return frame;
  return { ...frame, dts: frame.dts + shiftMs, pts: frame.pts + shiftMs };
}

export class TrackGate {
  private held: MediaFrame[] = [];
  private video: VideoTrack | undefined;
  private audio: AudioTrack | undefined;

  /** Frames are held (the source may end or break now and still have something to convert). */
  get holding(): boolean {
    return this.held.length > 0;
  }

  /** Holds the frame; returns the decision once the track set is known. */
  push(frame: MediaFrame): GateOpen | undefined {
    // Held past the next read, so copied: the source lends frame data (see output.ts).
    this.held.push({ ...frame, data: Buffer.from(frame.data) });
    const t = frame.track;
    if (t.kind === 'video') this.video ??= t;
    else this.audio ??= t;
    const both = this.video !== undefined && this.audio !== undefined;
    const span = frame.dts - this.held[0].dts;
    if (both || span >= HOLD_MS || this.held.length >= HOLD_FRAMES) return this.open();
    return undefined;
  }

  /** The source ended while frames were held: decide with what came. */
  end(): GateOpen | undefined {
    return this.held.length > 0 ? this.open() : undefined;
  }

  private open(): GateOpen {
    let min = Number.POSITIVE_INFINITY;
    for (const f of this.held) min = Math.min(min, f.dts, f.pts);
    const shiftMs = min < 0 ? -min : 0;
    const frames = this.held.map((f) => shifted(f, shiftMs));
    this.held = [];
    return { tracks: { video: this.video, audio: this.audio }, shiftMs, frames };
  }
}
