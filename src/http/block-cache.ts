/**
 * Blocks of the large files (a complete MP4, an FLV recording) in memory, shared by every
 * download and Range request of them (the file gateway): seeking players ask for random ranges
 * of the same recording, and each would otherwise cost reads on libuv's four-thread pool and a
 * fresh Buffer per 64 KiB. A block is read once, with one read, and then written from memory to
 * every socket that wants part of it (a view, never a copy), as the live fan-out writes one
 * Buffer to every viewer.
 *
 * Blocks are keyed by the file's identity (file-cache.ts `fileIdentity`: a rename, a rewrite or
 * an append makes a new one) and their index; least recently used leave first once the blocks
 * hold `maxBytes`. Concurrent misses of one block share one read. With `maxBytes` 0 nothing is
 * kept: each block is read for its request alone (still one read of `blockBytes`, not 64 KiB
 * pieces).
 */
import type { FileHandle } from 'node:fs/promises';

/** 1 MiB: a seek's first range fits one block, a download needs one read per MiB. */
export const BLOCK_BYTES = 1024 * 1024;

export class BlockCache {
  hits = 0;
  misses = 0;
  bytes = 0;
  private readonly blocks = new Map<string, Buffer>();
  private readonly pending = new Map<string, Promise<Buffer | undefined>>();

  constructor(
    readonly maxBytes: number,
    readonly blockBytes: number = BLOCK_BYTES,
  ) {}

  /**
   * Block `index` of the version `identity` of a file of `size` bytes, open as `handle`: from
   * memory, or read now. Undefined when the file no longer has those bytes (it shrank).
   */
  get(handle: FileHandle, identity: string, size: number, index: number): Promise<Buffer | undefined> {
    const key = `${identity}#${index}`;
    const hit = this.blocks.get(key);
    if (hit) {
      this.hits++;
      // Map keeps insertion order: re-inserting is the LRU touch.
      this.blocks.delete(key);
      this.blocks.set(key, hit);
      return Promise.resolve(hit);
    }
    const inFlight = this.pending.get(key);
    if (inFlight) {
      this.hits++;
      return inFlight;
    }
    this.misses++;
    const read = this.read(handle, size, index)
      .then((block) => {
        if (block) this.store(key, block);
        return block;
      })
      .finally(() => this.pending.delete(key));
    this.pending.set(key, read);
    return read;
  }

  private async read(handle: FileHandle, size: number, index: number): Promise<Buffer | undefined> {
    const offset = index * this.blockBytes;
    const length = Math.min(this.blockBytes, size - offset);
    if (length <= 0) return undefined;
    const block = Buffer.allocUnsafe(length);
    let filled = 0;
    try {
      while (filled < length) {
        const { bytesRead } = await handle.read(block, filled, length - filled, offset + filled);
        if (bytesRead === 0) return undefined;
        filled += bytesRead;
      }
    } catch {
      return undefined;
    }
    return block;
  }

  private store(key: string, block: Buffer): void {
    if (block.length > this.maxBytes) return;
    this.blocks.set(key, block);
    this.bytes += block.length;
    for (const [k, b] of this.blocks) {
      if (this.bytes <= this.maxBytes) break;
      this.blocks.delete(k);
      this.bytes -= b.length;
    }
  }

  /** Blocks kept now. */
  get size(): number {
    return this.blocks.size;
  }
}
