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

export interface AppendFileOptions {
  /**
   * A file per session: when the name is taken, take `{name}-2{ext}`, `-3`, … (openExclusive).
   * Otherwise an existing file of that name is an error. Either way nothing is ever truncated.
   */
  suffixIfTaken?: boolean;
  /** Told the path the file got, once it is open. */
  onOpen?: (path: string) => void;
}

/** Writes every byte of `bufs` (a short write is continued, not dropped). */
async function writeAll(handle: FileHandle, bufs: Buffer[]): Promise<void> {
  let rest = bufs;
  while (rest.length > 0) {
    const { bytesWritten } = await handle.writev(rest);
    let n = bytesWritten;
    let i = 0;
    while (i < rest.length && n >= rest[i].length) n -= rest[i++].length;
    rest = rest.slice(i);
    if (n > 0) rest[0] = rest[0].subarray(n);
  }
}

/**
 * An append-only file written through an OrderedWriter (the FLV recording, the open HLS or fMP4
 * segment's `.part`). Appends made while the disk is busy are coalesced into one vectored
 * write, so a recorder costs few syscalls however many frames a second it gets; bytes still
 * land in order, so a crash leaves a prefix of what was appended.
 */
export class AppendFile {
  private handle: FileHandle | undefined;
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  private flushQueued = false;
  /** Bytes appended so far (the file's size once the queue drains). */
  size = 0;
  /** The file's path; final once the queued open ran (`onOpen`). */
  path: string;

  constructor(
    private readonly writer: OrderedWriter,
    path: string,
    opts: AppendFileOptions = {},
  ) {
    this.path = path;
    writer.enqueue(async () => {
      if (opts.suffixIfTaken) {
        const opened = await openExclusive(path);
        this.handle = opened.handle;
        this.path = opened.path;
      } else {
        this.handle = await open(path, 'wx');
      }
      opts.onOpen?.(this.path);
    });
  }

  append(data: Buffer): void {
    if (data.length === 0) return;
    this.size += data.length;
    this.queued.push(data);
    this.queuedBytes += data.length;
    this.writer.addPending(data.length);
    if (this.flushQueued) return;
    this.flushQueued = true;
    this.writer.enqueue(() => this.flush());
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

  /** Closes the file and gives it its final name (a `.part` becomes the segment it holds). */
  closeAs(path: string): void {
    this.close();
    this.writer.enqueue(async () => {
      await rename(this.path, path);
      this.path = path;
    });
  }

  private async flush(): Promise<void> {
    this.flushQueued = false;
    const bufs = this.queued;
    const bytes = this.queuedBytes;
    this.queued = [];
    this.queuedBytes = 0;
    try {
      await writeAll(this.handle!, bufs);
    } finally {
      this.writer.addPending(-bytes);
    }
  }
}
