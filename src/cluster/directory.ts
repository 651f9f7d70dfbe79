/**
 * The primary's directory: which worker holds the publish of which stream name. Pure state, no
 * I/O: one publisher per name across every worker, the holder's private URL for the others' pulls.
 */
export class StreamDirectory {
  private readonly holders = new Map<string, number>();
  private readonly urls = new Map<number, string>();
  /** Names no worker may claim for now (their crashed worker's recordings are being moved aside). */
  private readonly held = new Set<string>();

  /** Refuses claims of `paths` until `unhold`. */
  hold(paths: readonly string[]): void {
    for (const p of paths) this.held.add(p);
  }

  unhold(paths: readonly string[]): void {
    for (const p of paths) this.held.delete(p);
  }

  /** The worker's private (loopback) HTTP-FLV URL, once it listens. */
  setUrl(worker: number, url: string): void {
    this.urls.set(worker, url);
  }

  /**
   * Grants `path` to `worker`, or names the worker that holds it. The same worker asking again is
   * granted: its own hub refuses a second local publisher as a single process does.
   */
  claim(
    path: string,
    worker: number,
  ): { ok: true; fresh: boolean } | { ok: false; holder: number } | { ok: false; held: true } {
    if (this.held.has(path)) return { ok: false, held: true };
    const holder = this.holders.get(path);
    if (holder === undefined) {
      this.holders.set(path, worker);
      return { ok: true, fresh: true };
    }
    if (holder === worker) return { ok: true, fresh: false };
    return { ok: false, holder };
  }

  /** Ends `worker`'s hold on `path`; false when it did not hold it. */
  release(path: string, worker: number): boolean {
    if (this.holders.get(path) !== worker) return false;
    this.holders.delete(path);
    return true;
  }

  holder(path: string): number | undefined {
    return this.holders.get(path);
  }

  url(worker: number): string | undefined {
    return this.urls.get(worker);
  }

  /** A worker died: every name it held is free again; returns them. */
  dropWorker(worker: number): string[] {
    this.urls.delete(worker);
    const freed: string[] = [];
    for (const [path, w] of this.holders) {
      if (w === worker) {
        this.holders.delete(path);
        freed.push(path);
      }
    }
    return freed;
  }
}
