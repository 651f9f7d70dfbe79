import type { Logger } from 'pino';

/**
 * Counts each time a bound against abuse is passed (README "Limits that protect the server"),
 * by the bound's name, for /metrics; and logs it, at most once per `intervalMs` per bound, with
 * how many were passed since the last line, so a flood of refused connections cannot flood the
 * log. One per server instance (no globals): tests run several servers in one process.
 */
export class LimitHits {
  private readonly counts = new Map<string, number>();
  /** Per bound: when it was last logged, and hits since. */
  private readonly logged = new Map<string, { at: number; since: number }>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 10_000,
  ) {}

  /** A bound was passed: counted, and logged unless it was logged less than intervalMs ago. */
  hit(limit: string, fields: Readonly<Record<string, unknown>>, message: string): void {
    this.counts.set(limit, (this.counts.get(limit) ?? 0) + 1);
    const now = Date.now();
    const l = this.logged.get(limit);
    if (l && now - l.at < this.intervalMs) {
      l.since++;
      return;
    }
    // `hits`: this one and those not logged since the previous line.
    this.log.warn({ limit, hits: (l?.since ?? 0) + 1, ...fields }, `limit reached: ${message}`);
    this.logged.set(limit, { at: now, since: 0 });
  }

  count(limit: string): number {
    return this.counts.get(limit) ?? 0;
  }

  /** Every bound passed at least once, with its count (read at scrape time). */
  entries(): IterableIterator<[string, number]> {
    return this.counts.entries();
  }
}
