import { type FileHandle, open as openFile, rename, rm } from 'node:fs/promises';
import { extname } from 'node:path';
import type { OrderedWriter } from './ordered-writer.js';

/** How many `-N` suffixes `openExclusive` tries before it gives up: far more than sessions a second. */
const MAX_NAME_SUFFIX = 1000;

/** How a file is opened; tests pass one whose handle fails like a full disk. */
export type OpenFile = (path: string, flags: string) => Promise<FileHandle>;

/**
 * Creates a new file at `path`, or at `{name}-2{ext}`, `{name}-3{ext}`, … when that name exists,
 * always with `'wx'` (O_CREAT | O_EXCL): a file another session created is never opened, let
 * alone truncated, whatever the timing. Resolves with the handle and the path it got.
 */
export async function openExclusive(
  path: string,
  open: OpenFile = openFile,
  sidecar?: string,
): Promise<{ handle: FileHandle; path: string }> {
  const ext = extname(path);
  const stem = path.slice(0, path.length - ext.length);
  const exists = (err: unknown) => (err as NodeJS.ErrnoException).code === 'EEXIST';
  for (let n = 1; n <= MAX_NAME_SUFFIX; n++) {
    const candidate = n === 1 ? path : `${stem}-${n}${ext}`;
    // The sidecar first: whoever sees the file sees it while it grows.
    if (sidecar !== undefined) {
      try {
        await (await open(`${candidate}${sidecar}`, 'wx')).close();
      } catch (err) {
        if (exists(err)) continue;
        throw err;
      }
    }
    try {
      return { handle: await open(candidate, 'wx'), path: candidate };
    } catch (err) {
      if (sidecar !== undefined) await rm(`${candidate}${sidecar}`, { force: true });
      if (!exists(err)) throw err;
    }
  }
  throw new Error(`${path}: ${MAX_NAME_SUFFIX} files of that name exist already`);
}

/** Bytes to write in place once a failed file was cut (e.g. the FLV duration). */
export interface Patch {
  position: number;
  data: Buffer;
}

export interface AppendFileOptions<M> {
  /**
   * A file per session: when the name is taken, take `{name}-2{ext}`, `-3`, … (openExclusive).
   * Otherwise an existing file of that name is an error. Either way nothing is ever truncated.
   */
  suffixIfTaken?: boolean;
  /** Told the path the file got, once it is open. */
  onOpen?: (path: string) => void;
  /**
   * A suffix (`.recording`): an empty `{path}{sidecar}` exists from before the file is created
   * until it is closed, so a reader (the static-file server deciding cache headers, recovery
   * after a crash) can tell a file that still grows from a finished one. Needs `suffixIfTaken`.
   */
  sidecar?: string;
  /**
   * After a write error (a full disk) the file is cut at the end of its last whole append and
   * closed; before it is closed, these patches are written in place. `mark` is what was given
   * with that last whole append (the FLV recorder gives each tag's timestamp).
   */
  onCut?: (wholeBytes: number, mark: M | undefined) => Patch[];
  /** Default: node:fs/promises open. */
  open?: OpenFile;
}

interface Unit<M> {
  buf: Buffer;
  mark: M | undefined;
}

/**
 * Writes every byte of `units`: a short write is continued, not dropped. `onWritten` hears of
 * every byte that reached the file, so a failure part-way still says how far it got.
 */
async function writeAll<M>(handle: FileHandle, units: Unit<M>[], onWritten: (n: number) => void) {
  let rest = units.map((u) => u.buf);
  while (rest.length > 0) {
    const { bytesWritten } = await handle.writev(rest);
    onWritten(bytesWritten);
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
 * land in order, so a crash leaves a prefix of what was appended. When the recorder stops (a
 * write failed, ENOSPC or EIO, on this file or another of the recorder's; or the disk fell
 * behind), the file is cut after its last whole append, patched (`onCut`) and closed: never left
 * open for the garbage collector, never ending on half a unit.
 */
export class AppendFile<M = never> {
  private handle: FileHandle | undefined;
  private queued: Unit<M>[] = [];
  private queuedBytes = 0;
  private flushQueued = false;
  /** Bytes of whole appends on disk, and the mark of the last of them. */
  private whole = 0;
  private wholeMark: M | undefined;
  /** Bytes appended so far (the file's size once the queue drains). */
  size = 0;
  /** The file's path; final once the queued open ran (`onOpen`). */
  path: string;
  private readonly unregister: () => void;

  constructor(
    private readonly writer: OrderedWriter,
    path: string,
    private readonly opts: AppendFileOptions<M> = {},
  ) {
    this.path = path;
    this.unregister = writer.onFailure(() => this.cut());
    writer.enqueue(async () => {
      const open = opts.open ?? openFile;
      if (opts.suffixIfTaken) {
        const opened = await openExclusive(path, open, opts.sidecar);
        this.handle = opened.handle;
        this.path = opened.path;
      } else {
        this.handle = await open(path, 'wx');
      }
      opts.onOpen?.(this.path);
    });
  }

  /** Bytes of whole appends on disk so far. */
  get written(): number {
    return this.whole;
  }

  append(data: Buffer, mark?: M): void {
    if (data.length === 0 || !this.writer.admit(data.length)) return;
    this.size += data.length;
    this.queued.push({ buf: data, mark });
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
      this.unregister();
      await this.removeSidecar();
    });
  }

  private async removeSidecar(): Promise<void> {
    if (this.opts.sidecar !== undefined) await rm(`${this.path}${this.opts.sidecar}`, { force: true });
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
    const units = this.queued;
    const bytes = this.queuedBytes;
    this.queued = [];
    this.queuedBytes = 0;
    let reached = 0;
    try {
      await writeAll(this.handle!, units, (n) => {
        reached += n;
      });
    } finally {
      this.writer.addPending(-bytes);
      // Whole units only: a failure part-way leaves the rest for cut() to take off.
      for (const u of units) {
        if (reached < u.buf.length) break;
        reached -= u.buf.length;
        this.whole += u.buf.length;
        this.wholeMark = u.mark;
      }
    }
  }

  /** After a failure: cut at the last whole append, patch, close. Never rejects. */
  private async cut(): Promise<void> {
    // Appends whose flush will never run: no longer pending.
    this.writer.addPending(-this.queuedBytes);
    this.queued = [];
    this.queuedBytes = 0;
    const handle = this.handle;
    this.handle = undefined;
    if (!handle) return;
    try {
      await handle.truncate(this.whole);
      for (const p of this.opts.onCut?.(this.whole, this.wholeMark) ?? []) {
        if (p.position + p.data.length <= this.whole)
          await handle.write(p.data, 0, p.data.length, p.position);
      }
    } finally {
      await handle.close().catch(() => {});
    }
    // Cut and patched, the file is as finished as it will get.
    await this.removeSidecar();
  }
}
