/**
 * One output file written front to back. Bytes are copied into a fixed write buffer and written
 * when it is full. Copying, rather than keeping references to the callers' Buffers, is what lets
 * the source reuse its read buffers (a copy into a buffer that exists anyway costs far less than
 * the garbage of a fresh Buffer per read). The file is written as `{path}.tmp` and renamed by
 * `commit()`, so a reader never sees half a file and a failed conversion leaves none.
 *
 * The file calls are synchronous. A converter is a batch job that writes hundreds of megabytes
 * into the page cache: measured on the 2-core bench machine, 900 HLS segments (576 MB) take
 * ~0.5 s and ~0.4 s of system time written synchronously, and 2–5 s and ~2 s of system time
 * through the thread pool (each call handed to another thread and back: wake-ups, and the bytes
 * copied on the other core). Each call blocks the event loop for one write of WRITE_BYTES (well
 * under a millisecond into the page cache); the reader yields to the event loop between its
 * reads (pusher/file-source.ts), so signals and timers still run. The methods keep their promise
 * signatures, so an output does not care.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';

/** Bytes gathered before a write: few syscalls, little memory. */
const WRITE_BYTES = 1024 * 1024;

export const TMP_SUFFIX = '.tmp';

/** A write buffer for FileSink.create: share one among sinks that are never open at once. */
export function writeBuffer(): Buffer {
  return Buffer.allocUnsafe(WRITE_BYTES);
}

export class FileSink {
  private used = 0;
  private written = 0;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly fd: number,
    private readonly buf: Buffer,
  ) {}

  /**
   * Creates `{path}.tmp` (replacing a stale one). Files written one after the other (HLS
   * segments) may share one `buffer` of WRITE_BYTES (see writeBuffer()), so a thousand segments
   * do not make a thousand megabytes of garbage.
   */
  static async create(path: string, buffer: Buffer = writeBuffer()): Promise<FileSink> {
    return new FileSink(path, openSync(path + TMP_SUFFIX, 'w'), buffer);
  }

  /** Bytes handed to the sink so far: the file offset the next byte lands at. */
  get position(): number {
    return this.written + this.used;
  }

  /**
   * Takes a copy of the bytes (writing when the buffer fills). The promise-or-undefined return
   * is the output interface's (output.ts); a write error throws here.
   */
  write(bytes: Buffer): Promise<void> | undefined {
    this.writeSlice(bytes, 0, bytes.length);
    return undefined;
  }

  /** As write, for `source[start, end)`: no subarray made (a copy pass writes a slice a frame). */
  writeSlice(source: Buffer, start: number, end: number): void {
    const n = end - start;
    if (this.used + n > this.buf.length) {
      this.flushSync();
      if (n >= this.buf.length) {
        this.writeFully(source, start, end);
        this.written += n;
        return;
      }
    }
    source.copy(this.buf, this.used, start, end);
    this.used += n;
    if (this.used === this.buf.length) this.flushSync();
  }

  async writeAll(bufs: readonly Buffer[]): Promise<void> {
    for (const b of bufs) this.write(b);
  }

  async flush(): Promise<void> {
    this.flushSync();
  }

  private flushSync(): void {
    if (this.used === 0) return;
    this.writeFully(this.buf, 0, this.used);
    this.written += this.used;
    this.used = 0;
  }

  /** A short write is continued, not dropped. */
  private writeFully(bytes: Buffer, start: number, end: number): void {
    for (let off = start; off < end; ) off += writeSync(this.fd, bytes, off, end - off);
  }

  /** Overwrites bytes already written (an FLV onMetaData patched at the end). */
  async patch(bytes: Buffer, position: number): Promise<void> {
    this.flushSync();
    writeSync(this.fd, bytes, 0, bytes.length, position);
  }

  /** Writes what is left, closes and renames `{path}.tmp` to `path`. */
  async commit(): Promise<void> {
    this.flushSync();
    this.close();
    renameSync(this.path + TMP_SUFFIX, this.path);
  }

  /** Closes and removes the temporary file. */
  async discard(): Promise<void> {
    this.used = 0;
    try {
      this.close();
    } catch {
      // closing a file we are throwing away: nothing to tell
    }
    rmSync(this.path + TMP_SUFFIX, { force: true });
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}
