/**
 * One continuous timeline over a pull that reconnects: each upstream connection brings its own
 * clock (a restarted origin starts near 0, another edge where it pleases), and viewers of the edge
 * must see timestamps that keep increasing, so that no player restarts. Pure: frame times in,
 * frame times out.
 *
 * Within one connection times pass through shifted by one offset (A/V sync is the upstream's).
 * At the first frame of a new connection the offset is chosen so that it follows the last frame
 * sent by GAP_MS, in decode and in presentation order: a connection cut after a P frame whose
 * B frames never came leaves a last presentation time a few frames past the last decode time, and
 * a new keyframe shown before it would repeat a timestamp (FFmpeg: "non monotonically increasing
 * dts"). And since the upstream's first frames interleave its tracks loosely (its GOP
 * cache starts at a video keyframe, with audio a few ms either side), a frame that would still
 * land at or before the last frame of its own track pushes the offset forward: every track's
 * times stay strictly increasing.
 */

/** Pause inserted at a reconnect: longer than the usual A/V interleaving skew of one GOP start. */
export const GAP_MS = 100;

export class ContinuousTimeline {
  private offset = 0;
  private anchored = false;
  private lastOut = Number.NEGATIVE_INFINITY;
  /** The latest presentation time sent, over every track. */
  private lastPtsOut = Number.NEGATIVE_INFINITY;
  private readonly lastByTrack = new Map<string, number>();
  /** Upstream decode time of the last frame of each track (to see repeats after `resume`). */
  private readonly lastInByTrack = new Map<string, number>();
  /** Tracks whose frames up to lastInByTrack are repeats (a reconnect to the same timeline). */
  private readonly repeating = new Set<string>();

  /** The next frame starts a new upstream connection (and clock). */
  reanchor(): void {
    this.anchored = false;
    this.repeating.clear();
  }

  /**
   * The next frame comes over a new connection on the same clock as before (the upstream, an
   * edge, still holds the same publish): times go on with the same offset, and what it sends
   * again first (its GOP cache) is a repeat, dropped up to the last frame of each track it sent.
   */
  resume(): void {
    for (const track of this.lastInByTrack.keys()) this.repeating.add(track);
  }

  /**
   * The output decode time of a frame of `track` ('video' | 'audio') with upstream decode time
   * `dts` and presentation time `pts` (shifted by the same amount); undefined for a frame sent
   * again after `resume`, which viewers already had.
   */
  map(track: string, dts: number, pts = dts): number | undefined {
    if (this.repeating.has(track)) {
      if (dts <= this.lastInByTrack.get(track)!) return undefined;
      this.repeating.delete(track);
    }
    this.lastInByTrack.set(track, dts);
    if (!this.anchored) {
      this.offset =
        this.lastOut === Number.NEGATIVE_INFINITY
          ? 0
          : Math.max(this.lastOut + GAP_MS - dts, this.lastPtsOut + GAP_MS - pts);
      this.anchored = true;
    }
    let out = dts + this.offset;
    const last = this.lastByTrack.get(track);
    if (last !== undefined && out <= last) {
      this.offset += last + 1 - out;
      out = last + 1;
    }
    this.lastByTrack.set(track, out);
    if (out > this.lastOut) this.lastOut = out;
    const ptsOut = pts + (out - dts);
    if (ptsOut > this.lastPtsOut) this.lastPtsOut = ptsOut;
    return out;
  }
}
