/**
 * The primary's record of which workers stopped accepting on which port because they hold its
 * maxConnections (accept-valve.ts). Pure bookkeeping: the primary sends what it decides.
 *
 * The one rule: on every port at least one listening worker accepts, so the port stays open and
 * a client of a full server gets the 503 that says why rather than "connection refused".
 */
export class PausedPorts {
  private readonly paused = new Map<string, Set<number>>();

  /**
   * May `worker` stop accepting on `port`? Yes while another of the `listening` workers still
   * accepts there; a yes records the pause. A no means every other worker paused near its bound
   * too: they are all near full, so `reopen` lists the paused ones, which accept again, each up
   * to its own bound (a paused worker asked a little under it), and are forgotten here.
   */
  ask(port: string, worker: number, listening: Iterable<number>): { ok: boolean; reopen: number[] } {
    const set = this.paused.get(port) ?? new Set<number>();
    for (const id of listening) {
      if (id !== worker && !set.has(id)) {
        set.add(worker);
        this.paused.set(port, set);
        return { ok: true, reopen: [] };
      }
    }
    this.paused.delete(port);
    return { ok: false, reopen: [...set].filter((id) => id !== worker) };
  }

  /** Whether `worker` stopped accepting on `port`. */
  has(port: string, worker: number): boolean {
    return this.paused.get(port)?.has(worker) ?? false;
  }

  resume(port: string, worker: number): void {
    const set = this.paused.get(port);
    if (!set?.delete(worker)) return;
    if (set.size === 0) this.paused.delete(port);
  }

  /**
   * `worker` is gone (or stopped listening): forgets its pauses, and returns the workers that
   * must accept again because no one of the `listening` (the rest) accepts on their port.
   */
  drop(worker: number, listening: Iterable<number>): Array<{ worker: number; port: string }> {
    const rest = [...listening].filter((id) => id !== worker);
    const reopen: Array<{ worker: number; port: string }> = [];
    for (const [port, set] of this.paused) {
      set.delete(worker);
      if (rest.some((id) => !set.has(id))) {
        if (set.size === 0) this.paused.delete(port);
        continue;
      }
      for (const id of set) reopen.push({ worker: id, port });
      this.paused.delete(port);
    }
    return reopen;
  }
}
