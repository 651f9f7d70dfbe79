import { FlvStreamCheck } from './flv-check.js';
import { CLOCK_HEAD_BYTES, nowMicros, readClock } from './sei-clock.js';
import type { ViewStats } from './view-stats.js';

export interface ViewerOptions {
  holdMs: number;
  keyframeTimeoutMs: number;
  stallMs: number;
  latency: boolean;
  /** Source address to bind (spreads connections over 127.0.0.0/8), or undefined. */
  localAddress: string | undefined;
  /** Record video resuming after a pause longer than this (ms), if set. */
  resumeGapMs?: number;
}

/**
 * The protocol-independent half of one viewer: timing, the FLV check, the verdict. A protocol
 * shell (http-flv-viewer.ts, …) opens the connection, feeds bytes and calls `end`.
 */
export abstract class BenchViewer {
  readonly startedAt = performance.now();
  /** Wall clock at start (µs): frames stamped before it came from the GOP cache, not live. */
  private readonly startedMicros = nowMicros();
  lastDataAt = this.startedAt;
  /** When the last video frame's bytes arrived (the chunk's time, not one clock read per frame). */
  private lastVideoAt = 0;
  connectedAt = 0;
  private firstByte = false;
  finished = false;
  readonly check: FlvStreamCheck;

  constructor(
    protected readonly opts: ViewerOptions,
    protected readonly stats: ViewStats,
    private readonly onFinished: (v: BenchViewer) => void,
  ) {
    stats.attempted++;
    this.check = new FlvStreamCheck({
      headBytes: opts.latency ? CLOCK_HEAD_BYTES : 2,
      onFirstKeyframe: () => this.stats.ttfk.record(performance.now() - this.startedAt),
      onVideo:
        opts.latency || opts.resumeGapMs !== undefined
          ? (head, len) => {
              if (opts.resumeGapMs !== undefined) this.noteVideo(opts.resumeGapMs);
              if (!opts.latency) return;
              const sent = readClock(head, len);
              // Only frames sent after the viewer connected measure the live path: the cached
              // GOP a joining viewer gets first is seconds old by design.
              if (sent !== undefined && sent >= this.startedMicros) {
                this.stats.latency.record((nowMicros() - sent) / 1000);
              }
            }
          : undefined,
    });
  }

  private noteVideo(gapMs: number): void {
    const at = this.lastDataAt;
    if (this.lastVideoAt > 0 && at - this.lastVideoAt > gapMs) {
      this.stats.resumed(performance.timeOrigin + at, at - this.lastVideoAt);
    }
    this.lastVideoAt = at;
  }

  /** Closes the connection without judging (the shell's close handler must not count it). */
  protected abstract disconnect(): void;

  /** Counts media bytes; the shell calls this for every body chunk. */
  protected onMedia(buf: Buffer, start: number, end: number): void {
    const now = performance.now();
    this.lastDataAt = now;
    if (!this.firstByte) {
      this.firstByte = true;
      this.stats.ttfb.record(now - this.startedAt);
    }
    this.stats.addBytes(end - start, Date.now());
    if (!this.check.push(buf, start, end)) this.end(`bad FLV: ${this.check.error}`);
  }

  /** Called by the worker's sweep every few hundred ms. */
  sweep(now: number): void {
    if (this.finished) return;
    if (now - this.startedAt >= this.opts.holdMs) return this.end(undefined);
    if (!this.check.keyframeSeen && now - this.startedAt > this.opts.keyframeTimeoutMs) {
      return this.end(`no keyframe in ${this.opts.keyframeTimeoutMs / 1000} s`);
    }
    if (now - this.lastDataAt > this.opts.stallMs) this.end(`no data for ${this.opts.stallMs / 1000} s`);
  }

  /** The verdict: `failure` undefined means the viewer held to the end with a valid stream. */
  end(failure: string | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.disconnect();
    if (failure === undefined && !this.check.keyframeSeen) failure = 'no keyframe';
    if (failure === undefined) this.stats.succeeded++;
    else this.stats.fail(failure);
    this.onFinished(this);
  }
}
