import { FlvStreamCheck } from './flv-check.js';
import { CLOCK_HEAD_BYTES, nowMicros, readClock } from './sei-clock.js';
import type { ViewStats } from './view-stats.js';

export interface ViewerOptions {
  /**
   * When the viewer's hold ends and it closes as a success (performance.now() clock): the same
   * moment for every viewer of a run, the ramp's end plus the hold, so that all of them are
   * connected together for the whole hold.
   */
  endsAt: number;
  keyframeTimeoutMs: number;
  stallMs: number;
  latency: boolean;
  /** Source address to bind (spreads connections over 127.0.0.0/8), or undefined. */
  localAddress: string | undefined;
  /**
   * Shared by a worker's viewers: the origin's kill time (µs since the epoch), Infinity until
   * the harness announces it. Set: each viewer records its first video frame stamped at or after
   * it (edge-reconnect).
   */
  outage?: { atMicros: number };
}

/** Prefix of a failure reason of a viewer that was watching and ended after the outage's announcement. */
export const AFTER_KILL = 'after the kill: ';

/**
 * The protocol-independent half of one viewer: timing, the FLV check, the verdict. A protocol
 * shell (http-flv-viewer.ts, …) opens the connection, feeds bytes and calls `end`.
 */
export abstract class BenchViewer {
  readonly startedAt = performance.now();
  /** Wall clock at start (µs): frames stamped before it came from the GOP cache, not live. */
  private readonly startedMicros = nowMicros();
  lastDataAt = this.startedAt;
  /** Epoch ms when the first video frame of the new publish arrived (watchOutage), or 0. */
  private resumedAt = 0;
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
    const outage = opts.outage;
    this.check = new FlvStreamCheck({
      headBytes: opts.latency || outage ? CLOCK_HEAD_BYTES : 2,
      onFirstKeyframe: () => this.stats.ttfk.record(performance.now() - this.startedAt),
      onVideo:
        opts.latency || outage
          ? (head, len) => {
              const sent = readClock(head, len);
              if (sent === undefined) return;
              // The first frame the publisher stamped after the kill is the first one of the
              // new publish: it cannot have been in any buffer before the kill. Its arrival is
              // the chunk's time (lastDataAt), the viewer's "video back".
              if (outage && this.resumedAt === 0 && sent >= outage.atMicros) {
                this.resumedAt = performance.timeOrigin + this.lastDataAt;
              }
              // Only frames sent after the viewer connected measure the live path: the cached
              // GOP a joining viewer gets first is seconds old by design.
              if (opts.latency && sent >= this.startedMicros) {
                this.stats.latency.record((nowMicros() - sent) / 1000);
              }
            }
          : undefined,
    });
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
    if (now >= this.opts.endsAt) return this.end(undefined);
    if (!this.check.keyframeSeen && now - this.startedAt > this.opts.keyframeTimeoutMs) {
      // Which step it stalled at tells a full accept queue (SYN unanswered) from a server that
      // accepted but never served, or served no keyframe.
      const step =
        this.connectedAt === 0
          ? 'not connected'
          : !this.firstByte
            ? 'connected, no media byte'
            : 'no keyframe in the media';
      return this.end(`no keyframe in ${this.opts.keyframeTimeoutMs / 1000} s (${step})`);
    }
    if (now - this.lastDataAt > this.opts.stallMs) this.end(`no data for ${this.opts.stallMs / 1000} s`);
  }

  /** The verdict: `failure` undefined means the viewer held to the end with a valid stream. */
  end(failure: string | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.disconnect();
    if (failure === undefined && !this.check.keyframeSeen) failure = 'no keyframe';
    if (failure === undefined) {
      this.stats.succeeded++;
      if (this.resumedAt > 0) this.stats.resumed(this.resumedAt);
      else if (this.opts.outage && Number.isFinite(this.opts.outage.atMicros)) this.stats.neverResumed++;
    } else if (this.opts.outage && Number.isFinite(this.opts.outage.atMicros) && this.check.keyframeSeen) {
      // Watching when the origin went and then lost: the outage's loss, which the reconnect
      // figures count apart from viewers that never got going in the ramp.
      this.stats.fail(`${AFTER_KILL}${failure}`);
    } else this.stats.fail(failure);
    this.onFinished(this);
  }
}
