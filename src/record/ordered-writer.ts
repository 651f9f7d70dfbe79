import { type FileHandle, open, rename, rm, writeFile } from 'node:fs/promises';
import { asError } from '../errors.js';

/**
 * Ordered asynchronous writes for one recorder: every operation runs after the previous one
 * finished, so a file's bytes land in order and a slow disk delays only this recorder. The
 * first failure stops the queue and is reported once through `onError`; later operations are
 * dropped (the recorder is stopped, live play goes on).
 */
export class OrderedWriter {
  private tail: Promise<void> = Promise.resolve();
  private failed: Error | undefined;
  private queued = 0;
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
          this.failed = asError(err);
          this.onError(this.failed);
        }
      } finally {
        this.queued--;
        this.pendingBytes -= bytes;
      }
    });
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

/** An append-only file (FLV recording, fMP4 segments being joined) written through an OrderedWriter. */
export class AppendFile {
  private handle: FileHandle | undefined;
  /** Bytes queued for writing so far (the file's size once the queue drains). */
  size = 0;

  constructor(
    private readonly writer: OrderedWriter,
    readonly path: string,
  ) {
    writer.enqueue(async () => {
      this.handle = await open(path, 'w');
    });
  }

  append(data: Buffer): void {
    this.size += data.length;
    this.writer.enqueue(async () => {
      await this.handle!.write(data);
    }, data.length);
  }

  /** Overwrites bytes at `position` (e.g. patching the FLV duration into onMetaData). */
  patch(position: number, data: Buffer): void {
    this.writer.enqueue(async () => {
      await this.handle!.write(data, 0, data.length, position);
    });
  }

  close(): void {
    this.writer.enqueue(async () => {
      await this.handle?.close();
      this.handle = undefined;
    });
  }

  remove(): void {
    this.writer.enqueue(async () => {
      await this.handle?.close();
      this.handle = undefined;
      await rm(this.path, { force: true });
    });
  }
}
