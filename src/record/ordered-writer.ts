import { rename, writeFile } from 'node:fs/promises';

/**
 * Ordered asynchronous writes for one recorder: every operation runs after the previous one
 * finished, so a file's bytes land in order and a slow disk delays only this recorder. The
 * first failure stops the queue and is reported once through `onError`; later operations are
 * dropped (the recorder is stopped, live play goes on), and the cleanups registered with
 * `onFailure` run, in order, before `drain()` resolves: a file is never left open.
 */
export class OrderedWriter {
  private tail: Promise<void> = Promise.resolve();
  private failed: Error | undefined;
  private queued = 0;
  private readonly cleanups = new Set<() => Promise<void>>();
  /** Bytes queued and not yet written: a recorder may use it to notice a disk that cannot keep up. */
  pendingBytes = 0;

  constructor(private readonly onError: (err: Error) => void) {}

  get error(): Error | undefined {
    return this.failed;
  }

  get idle(): boolean {
    return this.queued === 0;
  }

  /** Queues an operation; `bytes` counts toward pendingBytes until it ran. */
  enqueue(op: () => Promise<void>, bytes = 0): void {
    if (this.failed) return;
    this.queued++;
    this.pendingBytes += bytes;
    this.tail = this.tail.then(async () => {
      try {
        if (!this.failed) await op();
      } catch (err) {
        if (!this.failed) {
          this.failed = err instanceof Error ? err : new Error(String(err));
          this.onError(this.failed);
          await this.cleanUp();
        }
      } finally {
        this.queued--;
        this.pendingBytes -= bytes;
      }
    });
  }

  /**
   * Registers what must run if the queue fails (closing a file), at most once; returns the
   * function that unregisters it (the file was closed normally).
   */
  onFailure(cleanup: () => Promise<void>): () => void {
    this.cleanups.add(cleanup);
    return () => this.cleanups.delete(cleanup);
  }

  private async cleanUp(): Promise<void> {
    const all = [...this.cleanups];
    this.cleanups.clear();
    for (const c of all) await c().catch(() => {});
  }

  /** Counts bytes toward pendingBytes (negative once written) that ride on an already queued operation. */
  addPending(bytes: number): void {
    this.pendingBytes += bytes;
  }

  /** Resolves when everything queued so far has run (or the queue failed). */
  drain(): Promise<void> {
    return this.tail;
  }
}

/** Writes a whole file so no reader ever sees half of it: write a temporary file, then rename. */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
