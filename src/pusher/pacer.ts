/**
 * Real-time pacing: when to send a frame of media time `dts`. Pure arithmetic over times given by
 * the caller (the push loop passes `performance.now()`), so tests need no timers.
 *
 * The first `burstMs` of media after an anchor go out at once, so a viewer that joins has a
 * picture without waiting for the next keyframe (FFmpeg's -readrate_initial_burst does the same);
 * after that frame `m` is due at anchorWall + (m - anchorMedia) / speed, so the whole push still
 * takes duration / speed.
 */
export interface PacerOptions {
  /** 1.0 = real time, 2.0 = twice as fast. */
  speed: number;
  /** Media sent at once after an anchor (default 1000 ms). */
  burstMs?: number;
  /**
   * When sending falls this far behind (a slow link), the schedule moves instead of racing to
   * catch up (default 2000 ms).
   */
  maxLagMs?: number;
}

export class Pacer {
  private readonly speed: number;
  private readonly burstMs: number;
  private readonly maxLagMs: number;
  private anchorWall: number | undefined;
  private anchorMedia = 0;

  constructor(opts: PacerOptions) {
    if (!(opts.speed > 0) || !Number.isFinite(opts.speed)) throw new RangeError(`bad speed ${opts.speed}`);
    this.speed = opts.speed;
    this.burstMs = opts.burstMs ?? 1000;
    this.maxLagMs = opts.maxLagMs ?? 2000;
  }

  /** Milliseconds to wait, at wall time `now`, before sending media time `dts` (0 = now). */
  delay(dts: number, now: number): number {
    if (this.anchorWall === undefined) {
      this.anchorWall = now;
      this.anchorMedia = dts;
    }
    const ahead = dts - this.anchorMedia;
    if (ahead < this.burstMs) return 0;
    const due = this.anchorWall + ahead / this.speed;
    if (now - due > this.maxLagMs) {
      this.anchorWall += now - due;
      return 0;
    }
    return Math.max(0, due - now);
  }

  /** Starts a new schedule (and a new burst) at the next frame: after a reconnect. */
  reanchor(): void {
    this.anchorWall = undefined;
  }
}
