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
  neverResumed = 0;
  allConnectedAt = 0;
  firstClosedAt = 0;

  addBytes(n: number, nowMs: number): void {
    this.bytes += n;
    const sec = Math.floor(nowMs / 1000);
    this.perSecond.set(sec, (this.perSecond.get(sec) ?? 0) + n);
  }

  /** A viewer's first video frame of the new publish arrived at `atMs` (epoch). */
  resumed(atMs: number): void {
    const at = Math.round(atMs);
    this.resumes.set(at, (this.resumes.get(at) ?? 0) + 1);
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
      neverResumed: this.neverResumed,
      allConnectedAt: this.allConnectedAt,
      firstClosedAt: this.firstClosedAt,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
  }
}
