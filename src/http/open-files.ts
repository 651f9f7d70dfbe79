/**
 * Open file handles shared by the requests for one file (the file gateway): a Range request or a
 * download of a large file would otherwise cost an open, an fstat and a close on libuv's
 * four-thread pool each, which is what bounded seeking players (issue 14: 1,145 Range requests/s
 * with a 5.7 s TTFB p99 against nginx's 5,006, whose open-file cache does the same).
 *
 * A handle is shared only by requests whose path lookup (file-cache.ts, at most `restatMs` old)
 * names the same inode (dev, ino): a file replaced by a rename gets a handle of its own, and the
 * old one closes when its last request ends, so a response started on the old version finishes
 * on it. An append keeps the inode: each response reads the bytes its own stat describes (an
 * append never changes those). Handles idle for `idleMs` are closed; at most `max` are kept.
 */
import type { Stats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';

/** One request's use of a shared handle; `release()` once, when its response is over. */
export interface FileLease {
  readonly handle: FileHandle;
  release(): void;
}

interface Held {
  readonly dev: number;
  readonly ino: number;
  readonly handle: FileHandle;
  users: number;
  lastUsed: number;
  /** No longer in the map (replaced or evicted): closed when its last user releases it. */
  retired: boolean;
}

export interface OpenFilesOptions {
  /** Handles kept open at most (each is one file descriptor of the process). */
  readonly max: number;
  /** A handle nobody used for this long is closed, ms. */
  readonly idleMs: number;
}

export class OpenFiles {
  /** Opens made (a miss of the shared handles). */
  opens = 0;
  private readonly held = new Map<string, Held>();
  private readonly opening = new Map<string, Promise<Held | undefined>>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: OpenFilesOptions) {
    this.sweeper = setInterval(() => this.sweep(Date.now() - options.idleMs), options.idleMs);
    this.sweeper.unref();
  }

  /** Handles open now. */
  get size(): number {
    return this.held.size;
  }

  /** Requests holding a kept handle now (0 when every response has ended). */
  get leases(): number {
    let n = 0;
    for (const h of this.held.values()) n += h.users;
    return n;
  }

  /**
   * A handle on the version of `file` that `info` describes, or undefined when the file cannot
   * be opened or is no longer that inode (the caller then opens and stats it itself).
   */
  async acquire(file: string, info: Stats): Promise<FileLease | undefined> {
    let h = this.held.get(file);
    if (!h || h.dev !== info.dev || h.ino !== info.ino) h = await this.openShared(file, info);
    if (!h) return undefined;
    const held = h;
    held.users++;
    let released = false;
    return {
      handle: held.handle,
      release: () => {
        if (released) return;
        released = true;
        held.users--;
        held.lastUsed = Date.now();
        if (held.retired && held.users === 0) closeQuietly(held.handle);
      },
    };
  }

  /** Closes every handle nobody uses, and stops the idle sweep (the server is stopping). */
  close(): void {
    clearInterval(this.sweeper);
    this.sweep(Number.POSITIVE_INFINITY);
  }

  private openShared(file: string, info: Stats): Promise<Held | undefined> {
    // Every request that misses at once shares one open (a new recording's first seconds).
    const key = `${file}\0${info.dev}:${info.ino}`;
    const inFlight = this.opening.get(key);
    if (inFlight) return inFlight;
    const pending = this.openFile(file, info).finally(() => this.opening.delete(key));
    this.opening.set(key, pending);
    return pending;
  }

  private async openFile(file: string, info: Stats): Promise<Held | undefined> {
    let handle: FileHandle | undefined;
    try {
      handle = await open(file, 'r');
      const now = await handle.stat();
      if (now.dev !== info.dev || now.ino !== info.ino) {
        closeQuietly(handle);
        return undefined;
      }
    } catch {
      if (handle) closeQuietly(handle);
      return undefined;
    }
    this.opens++;
    const held: Held = {
      dev: info.dev,
      ino: info.ino,
      handle,
      users: 0,
      lastUsed: Date.now(),
      retired: false,
    };
    const old = this.held.get(file);
    if (old) this.retire(file, old);
    if (this.held.size >= this.options.max) this.sweep(Number.POSITIVE_INFINITY);
    // Every kept handle busy: this one serves its requests and closes after them.
    if (this.held.size >= this.options.max) held.retired = true;
    else this.held.set(file, held);
    return held;
  }

  private retire(file: string, h: Held): void {
    this.held.delete(file);
    h.retired = true;
    if (h.users === 0) closeQuietly(h.handle);
  }

  /** Closes the handles nobody has used since `before` (ms since the epoch). */
  private sweep(before: number): void {
    for (const [file, h] of this.held) {
      if (h.users === 0 && h.lastUsed < before) this.retire(file, h);
    }
  }
}

function closeQuietly(handle: FileHandle): void {
  handle.close().catch(() => {});
}
