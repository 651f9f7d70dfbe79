/**
 * Keeps a recording's timeline continuous when a publisher's timestamps jump (an encoder that
 * restarts its clock, a 50-hour leap forward): recorders see frames on a clock without holes or
 * reversals, so sample durations stay small (an fMP4 trun duration is 32 bits, ISO/IEC 14496-12
 * 8.8.8), EXTINF values and FLV timestamps stay sane, and players need no discontinuity.
 *
 * Per track: a decode-time step beyond the limits below is a discontinuity. The frame after it is
 * placed one usual frame spacing after the frame before it (the duration of the sample before the
 * jump is clamped to that spacing), and every later frame of the track is shifted by the same
 * amount. Each track is repaired on its own, so a frame of the other track that was interleaved
 * across the jump is never moved by the wrong amount; both end up within a frame of where they
 * belong, and so within a frame of each other. Pure: frames in, frames out.
 */
import type { MediaFrame } from '../media/frame.js';

/** A forward step longer than this is a jump, not a pause: no encoder leaves 10 s between frames. */
export const MAX_FORWARD_STEP_MS = 10_000;
/** A backward step longer than this is a jump; a few ms of jitter is left to the muxers to clamp. */
export const MAX_BACKWARD_STEP_MS = 500;
/** A longer ordinary step (a pause) is not taken as the track's frame spacing. */
const MAX_SPACING_MS = 1000;
/** Spacing used when a track's own is not known yet: 1/25 s for video, an AAC frame at 44.1 kHz. */
const DEFAULT_SPACING_MS = { video: 40, audio: 23 } as const;

export interface TimestampJump {
  readonly kind: 'video' | 'audio';
  /** The publisher's decode time before and at the jump, ms. */
  readonly fromMs: number;
  readonly toMs: number;
  /** What this track's later frames are shifted by, ms (negative for a forward jump). */
  readonly shiftMs: number;
}

interface TrackClock {
  /** Output decode time of the last frame. */
  lastOut: number;
  /** The publisher's decode time of the last frame. */
  lastIn: number;
  /** The last ordinary forward step, ms. */
  spacing: number;
  shift: number;
}

export class TimestampRepair {
  private readonly clocks = new Map<'video' | 'audio', TrackClock>();
  /** Jumps repaired so far. */
  jumps = 0;

  /** The frame on the continuous timeline, and the jump repaired at it, if any. */
  fix(frame: MediaFrame): { frame: MediaFrame; jump?: TimestampJump } {
    const kind = frame.track.kind;
    const clock = this.clocks.get(kind);
    if (!clock) {
      this.clocks.set(kind, {
        lastOut: frame.dts,
        lastIn: frame.dts,
        spacing: DEFAULT_SPACING_MS[kind],
        shift: 0,
      });
      return { frame };
    }
    const out = frame.dts + clock.shift;
    const step = out - clock.lastOut;
    let jump: TimestampJump | undefined;
    if (step > MAX_FORWARD_STEP_MS || step < -MAX_BACKWARD_STEP_MS) {
      clock.shift = clock.lastOut + clock.spacing - frame.dts;
      jump = { kind, fromMs: clock.lastIn, toMs: frame.dts, shiftMs: clock.shift };
      this.jumps++;
    } else if (step > 0) {
      clock.spacing = Math.min(step, MAX_SPACING_MS);
    }
    clock.lastIn = frame.dts;
    if (clock.shift === 0) {
      clock.lastOut = frame.dts;
      return { frame, jump };
    }
    const fixed = { ...frame, dts: frame.dts + clock.shift, pts: frame.pts + clock.shift };
    clock.lastOut = fixed.dts;
    return { frame: fixed, jump };
  }
}
