/**
 * A millisecond histogram: 1 ms buckets up to 60 s (one more for "later"), so workers report
 * a fixed 240 KB at most however many samples they took, and reports merge by adding counts.
 * Percentiles are exact to the millisecond, which is the resolution the targets are set in.
 */
const BUCKETS = 60_001;

export class Histogram {
  readonly counts: Uint32Array;
  count = 0;
  max = 0;
  private sum = 0;

  constructor(counts?: ArrayLike<number>) {
    this.counts = new Uint32Array(BUCKETS);
    if (counts) {
      for (let i = 0; i < Math.min(counts.length, BUCKETS); i++) {
        const c = counts[i]!;
        if (c === 0) continue;
        this.counts[i] = c;
        this.count += c;
        this.sum += c * i;
        this.max = i;
      }
    }
  }

  record(ms: number): void {
    const b = ms <= 0 ? 0 : Math.min(BUCKETS - 1, Math.round(ms));
    this.counts[b]!++;
    this.count++;
    this.sum += b;
    if (b > this.max) this.max = b;
  }

  merge(other: Histogram): void {
    for (let i = 0; i <= other.max; i++) {
      const c = other.counts[i]!;
      if (c !== 0) this.counts[i]! += c;
    }
    this.count += other.count;
    this.sum += other.sum;
    if (other.max > this.max) this.max = other.max;
  }

  /** The smallest value v such that at least p% of the samples are <= v; NaN when empty. */
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i <= this.max; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return i;
    }
    return this.max;
  }

  get mean(): number {
    return this.count === 0 ? Number.NaN : this.sum / this.count;
  }

  /** Sparse form for IPC and JSON: [value, count] pairs. */
  toSparse(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i <= this.max; i++) if (this.counts[i] !== 0) out.push([i, this.counts[i]!]);
    return out;
  }

  static fromSparse(pairs: readonly [number, number][]): Histogram {
    const h = new Histogram();
    for (const [v, c] of pairs) {
      const b = Math.min(BUCKETS - 1, Math.max(0, v));
      h.counts[b]! += c;
      h.count += c;
      h.sum += b * c;
      if (b > h.max) h.max = b;
    }
    return h;
  }

  summary(): { n: number; p50: number; p95: number; p99: number; max: number; mean: number } {
    return {
      n: this.count,
      p50: this.percentile(50),
      p95: this.percentile(95),
      p99: this.percentile(99),
      max: this.count === 0 ? Number.NaN : this.max,
      mean: Math.round(this.mean * 10) / 10,
    };
  }
}
