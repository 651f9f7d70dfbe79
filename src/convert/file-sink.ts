/**
 * One output file written front to back. Bytes are copied into a fixed write buffer and written
 * when it is full. With a second buffer (the default), a full buffer is written while the other
 * fills (write-behind: the write runs on libuv's thread pool while the converter muxes on), and
 * only a writer that fills both before the disk took the first waits; so memory stays at two
 * buffers however fast the input is read (the disk is still the backpressure). Copying, rather
 * than keeping references to the callers' Buffers, is what lets the source reuse its read buffers
 * (a copy into a buffer that exists anyway costs far less than the garbage of a fresh Buffer per
 * read). The file is written as `{path}.tmp` and renamed by `commit()`, so a reader never sees
 * half a file and a failed conversion leaves none.
 */
import { type FileHandle, open, rename, rm } from 'node:fs/promises';

/** Bytes gathered before a write: few syscalls, little memory. */
const WRITE_BYTES = 1024 * 1024;

export const TMP_SUFFIX = '.tmp';

/** A write buffer for FileSink.create: share one among sinks that are never open at once. */
export function writeBuffer(): Buffer {
  return Buffer.allocUnsafe(WRITE_BYTES);
}

export class FileSink {
  private used = 0;
  /** Bytes whose write has started. */
  private written = 0;
  /** The writes started and not yet awaited, chained so they land in order. */
  private inflight: Promise<void> | undefined;

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    private buf: Buffer,
    private spare: Buffer | undefined,
  ) {}

  /**
   * Creates `{path}.tmp` (replacing a stale one). Files written one after the other (HLS
   * segments) may share one `buffer` of WRITE_BYTES (see writeBuffer()), so a thousand segments
   * do not make a thousand megabytes of garbage; `spare` (a second buffer, not shared with a sink
   * open at the same time) turns write-behind on. Default: two fresh buffers.
   */
  static async create(path: string, buffer?: Buffer, spare?: Buffer): Promise<FileSink> {
    const fh = await open(path + TMP_SUFFIX, 'w');
    return buffer
      ? new FileSink(path, fh, buffer, spare)
      : new FileSink(path, fh, writeBuffer(), writeBuffer());
  }

  /** Bytes handed to the sink so far: the file offset the next byte lands at. */
  get position(): number {
    return this.written + this.used;
  }

  /**
   * Takes a copy of the bytes; returns a promise only when a write is due (await it before
   * writing more). The caller's Buffer is free for reuse once this returns or its promise settles.
   */
  write(bytes: Buffer): Promise<void> | undefined {
    if (this.used + bytes.length <= this.buf.length) {
      bytes.copy(this.buf, this.used);
      this.used += bytes.length;
      return this.used === this.buf.length ? this.rotate() : undefined;
    }
    return this.spill(bytes);
  }

  /**
   * Starts writing the full buffer and swaps in the spare; the promise settles when the spare is
   * free to fill (its own earlier write done). Without a spare, when the write is done.
   */
  private rotate(): Promise<void> {
    const full = this.buf.subarray(0, this.used);
    const before = this.inflight;
    const p = (async () => {
      if (before) await before;
      await this.writeFully(full);
    })();
    // Handled here so a failure while nobody waits is not an unhandled rejection; it is thrown
    // at the next wait (rotate, flush, commit).
    p.catch(() => {});
    this.written += this.used;
    this.used = 0;
    if (!this.spare) {
      this.inflight = undefined;
      return p;
    }
    this.inflight = p;
    [this.buf, this.spare] = [this.spare, this.buf];
    return before ?? Promise.resolve();
  }

  private async spill(bytes: Buffer): Promise<void> {
    await this.flush();
    if (bytes.length >= this.buf.length) {
      await this.writeFully(bytes);
      this.written += bytes.length;
      return;
    }
    bytes.copy(this.buf, 0);
    this.used = bytes.length;
  }

  async writeAll(bufs: readonly Buffer[]): Promise<void> {
    for (const b of bufs) await this.write(b);
  }

  /** Writes everything handed over so far; settles when it is on its way to the disk. */
  async flush(): Promise<void> {
    if (this.used > 0) await this.rotate();
    const p = this.inflight;
    this.inflight = undefined;
    if (p) await p;
  }

  /** A short write is continued, not dropped. */
  private async writeFully(bytes: Buffer): Promise<void> {
    for (let off = 0; off < bytes.length; ) {
      const { bytesWritten } = await this.fh.write(bytes, off, bytes.length - off);
      off += bytesWritten;
    }
  }

  /** Overwrites bytes already written (an FLV onMetaData patched at the end). */
  async patch(bytes: Buffer, position: number): Promise<void> {
    await this.flush();
    await this.fh.write(bytes, 0, bytes.length, position);
  }

  /** Writes what is left, closes and renames `{path}.tmp` to `path`. */
  async commit(): Promise<void> {
    await this.flush();
    await this.fh.close();
    await rename(this.path + TMP_SUFFIX, this.path);
  }

  /** Closes and removes the temporary file. */
  async discard(): Promise<void> {
    this.used = 0;
    await this.inflight?.catch(() => {});
    this.inflight = undefined;
    await this.fh.close().catch(() => {});
    await rm(this.path + TMP_SUFFIX, { force: true });
  }
}
