import { rename, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { asError } from '../errors.js';

/**
 * Bytes a recorder may have queued for the disk before it stops: more means the disk cannot keep
 * up, and the queue would otherwise grow without bound (STYLE.md habit 8).
 */
export const MAX_PENDING_BYTES = 64 * 1024 * 1024;

export interface OrderedWriterOptions {
  /** Names the recording in its one log line: 'FLV' → "FLV recording stopped: …". */
  readonly label: string;
  readonly log: Logger;
  /** Fields for that log line (the file or folder), read when it is written. */
  readonly fields?: () => object;
  /** Default MAX_PENDING_BYTES. */
  readonly maxPendingBytes?: number;
  /** Told once when the recorder stops on an error (RecordingContext.onError: /metrics). */
  readonly onStop?: () => void;
}

/**
 * Ordered asynchronous writes for one recorder, and the one way a recorder stops.
 *
 * Every operation runs after the previous one finished, so a file's bytes land in order and a
 * slow disk delays only this recorder. A recorder stops for one of two reasons, each logged once
 * as "{label} recording stopped: {why}": a write failed (later operations are dropped), or more
 * than `maxPendingBytes` were queued (what is queued still runs, nothing more is taken). Either
 * way the cleanups registered with `onFailure` (closing open files) run, in order, before
 * `drain()` resolves: a file is never left open. Live play and the other recorders go on.
 */
export class OrderedWriter {
  private tail: Promise<void> = Promise.resolve();
  private failed: Error | undefined;
  private stoppedBecause: string | undefined;
  private queued = 0;
  private readonly cleanups = new Set<() => Promise<void>>();
  private readonly maxPendingBytes: number;
  /** Bytes queued and not yet written. */
  pendingBytes = 0;

  constructor(private readonly opts: OrderedWriterOptions) {
    this.maxPendingBytes = opts.maxPendingBytes ?? MAX_PENDING_BYTES;
  }

  /** The write error that stopped the recorder, if one did. */
  get error(): Error | undefined {
    return this.failed;
  }

  /** Whether the recorder stopped (a write failed, or the disk fell behind). */
  get stopped(): boolean {
    return this.stoppedBecause !== undefined;
  }

  get idle(): boolean {
    return this.queued === 0;
  }

  /**
   * Whether `bytes` more may be queued: false once stopped, and it stops the recorder when they
   * would take the queue past its cap.
   */
  admit(bytes: number): boolean {
    if (this.stopped) return false;
    if (this.pendingBytes + bytes > this.maxPendingBytes) {
      this.stop(`the disk cannot keep up (${this.maxPendingBytes} bytes queued)`);
      return false;
    }
    return true;
  }

  /** Queues an operation; `bytes` counts toward pendingBytes until it ran. False when not queued. */
  enqueue(op: () => Promise<void>, bytes = 0): boolean {
    if (!this.admit(bytes)) return false;
    this.queue(op, bytes);
    return true;
  }

  /** Counts bytes toward pendingBytes (negative once written) that ride on an already queued operation. */
  addPending(bytes: number): void {
    this.pendingBytes += bytes;
  }

  /**
   * Registers what must run when the recorder stops (closing a file), at most once; returns the
   * function that unregisters it (the file was closed normally).
   */
  onFailure(cleanup: () => Promise<void>): () => void {
    this.cleanups.add(cleanup);
    return () => this.cleanups.delete(cleanup);
  }

  /** Stops the recorder: one log line, nothing more queued, open files closed after what is queued. */
  stop(why: string): void {
    if (this.stopped) return;
    this.stoppedBecause = why;
    this.opts.onStop?.();
    this.opts.log.error(this.opts.fields?.() ?? {}, `${this.opts.label} recording stopped: ${why}`);
    this.queue(() => this.cleanUp(), 0);
  }

  /** Resolves when everything queued so far has run (or the queue failed) and, if stopped, files are closed. */
  drain(): Promise<void> {
    return this.tail;
  }

  private queue(op: () => Promise<void>, bytes: number): void {
    this.queued++;
    this.pendingBytes += bytes;
    this.tail = this.tail.then(async () => {
      try {
        if (!this.failed) await op();
      } catch (err) {
        if (!this.failed) {
          this.failed = asError(err);
          this.stop(this.failed.message);
          await this.cleanUp();
        }
      } finally {
        this.queued--;
        this.pendingBytes -= bytes;
      }
    });
  }

  private async cleanUp(): Promise<void> {
    const all = [...this.cleanups];
    this.cleanups.clear();
    for (const c of all) await c().catch(() => {});
  }
}

/** Writes a whole file so no reader ever sees half of it: write a temporary file, then rename. */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
