/**
 * One shared in-memory copy of the small hot files (HLS segments and playlists, init segments)
 * for the file gateway: thousands of viewers ask for the newest segment within the same second,
 * and each would otherwise cost a file open, reads and a close. Like the live fan-out, the bytes
 * are read once and the same Buffer is written to every socket.
 *
 * Two bounded maps:
 *  - what a URL path resolves to (real path, stat, Cache-Control), kept `restatMs` (a short
 *    re-stat: a rewritten playlist is seen within that time, and a cache in front with
 *    `max-age=1` never sees it later than it would from the disk);
 *  - file contents, keyed by the real path and valid only for the identity they were read with
 *    (dev, ino, size, mtime): a file replaced by a rename or rewritten in place is read anew.
 * Contents are bounded by bytes (least recently used leave first); concurrent misses of one
 * file share one read.
 */
import type { Stats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { BlockCache } from './block-cache.js';
import { OpenFiles } from './open-files.js';

/** A refresh in flight lets others keep the old answer until it is this many re-stat periods old. */
const STALE_WHILE_REFRESH = 4;

export interface FileCacheOptions {
  /** Total bytes of file contents kept. */
  readonly maxBytes: number;
  /** Larger files are streamed from the disk, never kept (a full MP4, an FLV). */
  readonly maxFileBytes: number;
  /** How long what a path resolves to is trusted before it is looked up again, ms (0: never). */
  readonly restatMs: number;
  /** Path lookups kept at most (an attacker's random paths must not grow memory). */
  readonly maxLookups?: number;
  /** Memory for blocks of the larger files (block-cache.ts); 0 or none: each read for one request. */
  readonly blockBytes?: number;
  /** Open handles shared by the requests of the larger files (open-files.ts), at most. */
  readonly maxOpenFiles?: number;
}

/** A shared handle nobody used for this long is closed, ms. */
const OPEN_IDLE_MS = 10_000;

interface Entry {
  readonly identity: string;
  readonly data: Buffer;
  /** The stat of the bytes in `data` (taken on the open file, so the two agree). */
  readonly info: Stats;
  /** When that stat was taken (ms since the epoch). */
  readonly checkedAt: number;
}

/** A file's bytes and the stat that describes them. */
export interface CachedFile {
  readonly data: Buffer;
  readonly info: Stats;
}

interface Lookup<T> {
  readonly value: T;
  readonly at: number;
}

/** What identifies one version of a file (a rename, a rewrite or an append changes it). */
export function fileIdentity(info: Stats): string {
  return `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}`;
}

export class FileCache {
  hits = 0;
  misses = 0;
  bytes = 0;
  private readonly contents = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<CachedFile | undefined>>();
  private readonly lookups = new Map<string, Lookup<unknown>>();
  private readonly resolving = new Map<string, Promise<unknown>>();
  private readonly maxLookups: number;
  /** Handles of the larger files, shared by their downloads and Range requests. */
  readonly openFiles: OpenFiles;
  /** Their bytes, block by block. */
  readonly blocks: BlockCache;

  constructor(readonly options: FileCacheOptions) {
    this.maxLookups = options.maxLookups ?? 10_000;
    this.openFiles = new OpenFiles({ max: options.maxOpenFiles ?? 1000, idleMs: OPEN_IDLE_MS });
    this.blocks = new BlockCache(options.blockBytes ?? 0);
  }

  /** Closes the shared handles (the server stops). */
  close(): void {
    this.openFiles.close();
  }

  /** Whether a file of this size is kept in memory at all. */
  fits(size: number): boolean {
    return size <= this.options.maxFileBytes && size <= this.options.maxBytes;
  }

  /**
   * `resolve()`'s answer for `key`, reused for `restatMs`: the per-request realpath and stat
   * calls go to libuv's four-thread pool, which is the bottleneck at tens of thousands of
   * requests a second.
   */
  async lookup<T>(key: string, resolve: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.lookups.get(key);
    if (hit && now - hit.at < this.options.restatMs) return hit.value as T;
    // Every request that misses at once shares one resolution (a playlist's TTL ends for all
    // its viewers in the same instant).
    const inFlight = this.resolving.get(key);
    // While one refresh runs, the others keep the answer it replaces (for at most a few
    // re-stat periods): on a busy machine the refresh waits for the thread pool, and requests
    // queued behind it would wait with it.
    if (inFlight && hit && now - hit.at < STALE_WHILE_REFRESH * this.options.restatMs) {
      return hit.value as T;
    }
    if (inFlight) return inFlight as Promise<T>;
    const pending = resolve().finally(() => this.resolving.delete(key));
    this.resolving.set(key, pending);
    const value = await pending;
    if (this.options.restatMs > 0) {
      this.lookups.delete(key);
      this.lookups.set(key, { value, at: now });
      if (this.lookups.size > this.maxLookups) {
        const oldest = this.lookups.keys().next().value;
        if (oldest !== undefined) this.lookups.delete(oldest);
      }
    }
    return value;
  }

  /**
   * The contents of `file`, from memory when the copy there is the version `info` (a lookup up
   * to `restatMs` old) names, or was itself checked within `restatMs`; else read anew from an
   * open file whose own stat comes back with it. Undefined when the file cannot be read or
   * changed size while being read (the caller then streams it). One read per file at a time,
   * however many ask.
   */
  async read(file: string, info: Stats): Promise<CachedFile | undefined> {
    const entry = this.contents.get(file);
    if (
      entry &&
      (entry.identity === fileIdentity(info) || Date.now() - entry.checkedAt < this.options.restatMs)
    ) {
      this.hits++;
      // Most recently used last: Map keeps insertion order, so re-inserting is the LRU touch.
      this.contents.delete(file);
      this.contents.set(file, entry);
      return entry;
    }
    const inFlight = this.pending.get(file);
    if (inFlight) {
      this.hits++;
      // The copy being replaced, while it is young enough (as for lookups above).
      if (entry && Date.now() - entry.checkedAt < STALE_WHILE_REFRESH * this.options.restatMs) {
        return entry;
      }
      return inFlight;
    }
    this.misses++;
    const read = this.load(file, entry).finally(() => this.pending.delete(file));
    this.pending.set(file, read);
    return read;
  }

  private async load(file: string, old: Entry | undefined): Promise<CachedFile | undefined> {
    let handle: FileHandle | undefined;
    try {
      handle = await open(file, 'r');
      const info = await handle.stat();
      const checkedAt = Date.now();
      const identity = fileIdentity(info);
      if (old && old.identity === identity) {
        this.store(file, { ...old, checkedAt });
        return old;
      }
      if (!this.fits(info.size)) return undefined;
      const data = await handle.readFile();
      // A file that grew or shrank while it was read is not the version its stat names.
      if (data.length !== info.size) return undefined;
      const entry = { identity, data, info, checkedAt };
      this.store(file, entry);
      return entry;
    } catch {
      return undefined;
    } finally {
      await handle?.close().catch(() => {});
    }
  }

  private store(file: string, entry: Entry): void {
    const old = this.contents.get(file);
    if (old) {
      this.bytes -= old.data.length;
      this.contents.delete(file);
    }
    this.contents.set(file, entry);
    this.bytes += entry.data.length;
    for (const [name, e] of this.contents) {
      if (this.bytes <= this.options.maxBytes) break;
      this.contents.delete(name);
      this.bytes -= e.data.length;
    }
  }

  /** Files kept now. */
  get files(): number {
    return this.contents.size;
  }
}
