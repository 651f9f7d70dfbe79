/**
 * One output file written front to back: small Buffers (tags, TS packets, sample payloads) are
 * gathered and written with one vectored write per WRITE_BYTES, and each write is awaited before
 * more is gathered, so memory stays at about WRITE_BYTES however fast the input is read (the
 * disk is the backpressure). The file is written as `{path}.tmp` and renamed by `commit()`, so a
 * reader never sees half a file and a failed conversion leaves none.
 */
import { type FileHandle, open, rename, rm } from 'node:fs/promises';

/** Bytes gathered before a write: few syscalls, little memory. */
const WRITE_BYTES = 1024 * 1024;
/** Buffers per writev, under every platform's IOV_MAX (1024 on Linux). */
const MAX_IOV = 512;

export const TMP_SUFFIX = '.tmp';

export class FileSink {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private written = 0;

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
  ) {}

  /** Creates `{path}.tmp` (replacing a stale one). */
  static async create(path: string): Promise<FileSink> {
    return new FileSink(path, await open(path + TMP_SUFFIX, 'w'));
  }

  /** Bytes handed to the sink so far: the file offset the next byte lands at. */
  get position(): number {
    return this.written + this.pendingBytes;
  }

  /** Queues bytes; returns a promise only when a write is due (await it before writing more). */
  write(buf: Buffer): Promise<void> | undefined {
    if (buf.length === 0) return undefined;
    this.pending.push(buf);
    this.pendingBytes += buf.length;
    if (this.pendingBytes >= WRITE_BYTES || this.pending.length >= MAX_IOV) return this.flush();
    return undefined;
  }

  async writeAll(bufs: readonly Buffer[]): Promise<void> {
    for (const b of bufs) await this.write(b);
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const bufs = this.pending;
    const total = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    let done = 0;
    // A short write is continued, not dropped.
    while (done < total) {
      const { bytesWritten } = await this.fh.writev(done === 0 ? bufs : [Buffer.concat(bufs).subarray(done)]);
      done += bytesWritten;
    }
    this.written += total;
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
    this.pending = [];
    await this.fh.close().catch(() => {});
    await rm(this.path + TMP_SUFFIX, { force: true });
  }
}
