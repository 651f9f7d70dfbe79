import { type FileHandle, open, rename, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';

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
          this.failed = err instanceof Error ? err : new Error(String(err));
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

/** How many `-N` suffixes `openExclusive` tries before it gives up: far more than sessions a second. */
const MAX_NAME_SUFFIX = 1000;

/**
 * Creates a new file at `path`, or at `{name}-2{ext}`, `{name}-3{ext}`, … when that name exists,
 * always with `'wx'` (O_CREAT | O_EXCL): a file another session created is never opened, let
 * alone truncated, whatever the timing. Resolves with the handle and the path it got.
 */
export async function openExclusive(path: string): Promise<{ handle: FileHandle; path: string }> {
  const ext = extname(path);
  const stem = path.slice(0, path.length - ext.length);
  for (let n = 1; n <= MAX_NAME_SUFFIX; n++) {
    const candidate = n === 1 ? path : `${stem}-${n}${ext}`;
    try {
      return { handle: await open(candidate, 'wx'), path: candidate };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error(`${path}: ${MAX_NAME_SUFFIX} files of that name exist already`);
}

/**
 * An append-only file (the FLV recording) written through an OrderedWriter. It is created with
 * `openExclusive`, so `path` may gain a `-N` suffix once the open ran.
 */
export class AppendFile {
  private handle: FileHandle | undefined;
  /** Bytes queued for writing so far (the file's size once the queue drains). */
  size = 0;
  /** The file's path; final once the queued open ran (`onOpen`). */
  path: string;

  constructor(
    private readonly writer: OrderedWriter,
    path: string,
    onOpen?: (path: string) => void,
  ) {
    this.path = path;
    writer.enqueue(async () => {
      const opened = await openExclusive(path);
      this.handle = opened.handle;
      this.path = opened.path;
      onOpen?.(opened.path);
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
}
