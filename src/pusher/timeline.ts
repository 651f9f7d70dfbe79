/**
 * Source times → the times a push sends. Pure: no clocks, no I/O.
 *
 * - The first frame of the file goes out at 0 (an MP4 with B-frames starts at a negative DTS,
 *   e.g. -80 ms; an FLV cut from a live recording may start at hours), pts - dts kept.
 * - `--loop`: each pass continues where the previous one ended, one frame duration after its last
 *   frame, so the timestamps a viewer sees only ever grow.
 * - A reconnect changes nothing here: the position in the file goes on and so do the times.
 */
import type { MediaFrame } from '../media/frame.js';

/** A frame duration to use for a track that showed only one frame (1 ms keeps times increasing). */
const FALLBACK_FRAME_MS = 1;

type Kind = 'video' | 'audio';

export class PushTimeline {
  /** Added to source times in the current pass; fixed by the pass's first frame. */
  private shift: number | undefined;
  /** Output time the current pass starts at. */
  private passStart = 0;
  private readonly lastDts = new Map<Kind, number>();
  private readonly lastDelta = new Map<Kind, number>();
  private passes = 0;

  /** Number of passes started (1 during the first). */
  get pass(): number {
    return this.passes;
  }

  /** Starts a pass over the file: the first, or the next loop. */
  startPass(): void {
    if (this.passes > 0) this.passStart = this.end;
    this.passes++;
    this.shift = undefined;
  }

  /** Where the next pass would start: after the last frame of every track, plus its duration. */
  get end(): number {
    let end = this.passStart;
    for (const [kind, dts] of this.lastDts) {
      end = Math.max(end, dts + (this.lastDelta.get(kind) ?? FALLBACK_FRAME_MS));
    }
    return end;
  }

  /** Output dts and pts for a frame of the current pass (dts never decreases per track). */
  map(frame: MediaFrame): { dts: number; pts: number } {
    if (this.shift === undefined) this.shift = this.passStart - frame.dts;
    const kind = frame.track.kind;
    const prev = this.lastDts.get(kind);
    let dts = frame.dts + this.shift;
    // A file whose DTS steps back (a spliced FLV) would make players drop or stall: hold the time.
    if (prev !== undefined && dts < prev) dts = prev;
    const pts = Math.max(dts, frame.pts + this.shift);
    if (prev !== undefined && dts > prev) this.lastDelta.set(kind, dts - prev);
    this.lastDts.set(kind, dts);
    return { dts, pts };
  }
}
