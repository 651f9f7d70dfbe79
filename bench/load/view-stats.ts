import { Histogram } from '../lib/histogram.js';
import type { ViewReport } from './job.js';

/** What one worker's viewers measured, merged as they finish. */
export class ViewStats {
  attempted = 0;
  succeeded = 0;
  readonly failures: Record<string, number> = {};
  readonly ttfb = new Histogram();
  readonly ttfk = new Histogram();
  readonly latency = new Histogram();
  bytes = 0;
  private readonly perSecond = new Map<number, number>();
  private readonly resumes = new Map<number, number>();
  readonly gaps = new Histogram();
  allConnectedAt = 0;
  firstClosedAt = 0;

  addBytes(n: number, nowMs: number): void {
    this.bytes += n;
    const sec = Math.floor(nowMs / 1000);
    this.perSecond.set(sec, (this.perSecond.get(sec) ?? 0) + n);
  }

  /** Video came back at `nowMs` (epoch) after a pause of `gapMs`. */
  resumed(nowMs: number, gapMs: number): void {
    const at = Math.floor(nowMs / 10);
    this.resumes.set(at, (this.resumes.get(at) ?? 0) + 1);
    this.gaps.record(gapMs);
  }

  fail(reason: string): void {
    this.failures[reason] = (this.failures[reason] ?? 0) + 1;
  }

  report(): ViewReport {
    const cpu = process.cpuUsage();
    return {
      role: 'view',
      attempted: this.attempted,
      succeeded: this.succeeded,
      failures: this.failures,
      ttfb: this.ttfb.toSparse(),
      ttfk: this.ttfk.toSparse(),
      latency: this.latency.toSparse(),
      bytes: this.bytes,
      perSecond: Object.fromEntries(this.perSecond),
      resumes: Object.fromEntries(this.resumes),
      gaps: this.gaps.toSparse(),
      allConnectedAt: this.allConnectedAt,
      firstClosedAt: this.firstClosedAt,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
  }
}
