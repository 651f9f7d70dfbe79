/**
 * Bounds-checked reading of ISO BMFF boxes (ISO/IEC 14496-12 4.2) from a Buffer: box headers
 * (32-bit size, size 1 = 64-bit largesize, size 0 = to the end of the enclosing space) and a
 * cursor that throws ERR_MP4_FORMAT instead of reading past its box.
 */
import { EstuaryError } from '../../errors.js';
import { TWO_POW_32 } from './box-writer.js';

export interface BoxHeader {
  type: string;
  /** Offset of the box's first byte (in the buffer or file it was read from). */
  start: number;
  /** 8, or 16 with a largesize. */
  headerSize: number;
  /** Total size including the header. */
  size: number;
}

export function mp4Error(message: string): EstuaryError {
  return new EstuaryError('ERR_MP4_FORMAT', message);
}

/**
 * Parses the header at `off` within `buf`, where the enclosing space ends at `end` (size 0 boxes
 * extend to it). `base` is added to offsets so headers read from a file window carry file offsets.
 */
export function parseBoxHeader(buf: Buffer, off: number, end: number, base = 0): BoxHeader {
  if (off + 8 > buf.length || off + 8 > end) throw mp4Error(`truncated box header at ${base + off}`);
  let size = buf.readUInt32BE(off);
  const type = buf.toString('latin1', off + 4, off + 8);
  let headerSize = 8;
  if (size === 1) {
    if (off + 16 > buf.length || off + 16 > end) throw mp4Error(`truncated largesize of '${type}'`);
    size = buf.readUInt32BE(off + 8) * TWO_POW_32 + buf.readUInt32BE(off + 12);
    headerSize = 16;
  } else if (size === 0) {
    size = end - off;
  }
  if (size < headerSize || !Number.isSafeInteger(size)) throw mp4Error(`box '${type}' has bad size ${size}`);
  if (off + size > end) throw mp4Error(`box '${type}' (${size} bytes) overruns its parent`);
  return { type, start: base + off, headerSize, size };
}

/** The child boxes of [start, end) in `buf` (offsets relative to `buf`). */
export function childBoxes(buf: Buffer, start: number, end: number): BoxHeader[] {
  const out: BoxHeader[] = [];
  let off = start;
  // A trailing 1..7 bytes is not a box; some writers pad with zeros (14496-12 allows none, FFmpeg
  // tolerates it), so ignore fewer than 8 bytes rather than fail the whole file.
  while (end - off >= 8) {
    const h = parseBoxHeader(buf, off, end);
    out.push(h);
    off += h.size;
  }
  return out;
}

/** Bounded reader over one box's payload. */
export class BoxCursor {
  pos: number;

  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
    readonly name: string,
  ) {
    if (end > buf.length) throw mp4Error(`'${name}' extends past the data read`);
    this.pos = start;
  }

  static of(buf: Buffer, h: BoxHeader): BoxCursor {
    return new BoxCursor(buf, h.start + h.headerSize, h.start + h.size, h.type);
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number): void {
    if (n < 0 || this.pos + n > this.end) throw mp4Error(`'${this.name}' truncated`);
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u24(): number {
    return this.u8() * 65536 + this.u16();
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): number {
    const hi = this.u32();
    const v = hi * TWO_POW_32 + this.u32();
    if (!Number.isSafeInteger(v)) throw mp4Error(`'${this.name}': 64-bit value beyond 2^53`);
    return v;
  }

  /** 64-bit signed (elst media_time in version 1); -1 is the only negative value that matters. */
  i64(): number {
    const hi = this.i32();
    const lo = this.u32();
    return hi * TWO_POW_32 + lo;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** FullBox version(8) and flags(24). */
  versionFlags(): { version: number; flags: number } {
    const version = this.u8();
    return { version, flags: this.u24() };
  }

  /**
   * An entry count that must fit the rest of the box at `entrySize` bytes each: a hostile count
   * then fails here instead of driving a huge allocation.
   */
  count(entrySize: number): number {
    const n = this.u32();
    if (n * entrySize > this.remaining) throw mp4Error(`'${this.name}': ${n} entries do not fit the box`);
    return n;
  }
}

/** The first child of the given type, or undefined. */
export function findChild(buf: Buffer, parent: BoxHeader, type: string): BoxHeader | undefined {
  return childBoxes(buf, parent.start + parent.headerSize, parent.start + parent.size).find(
    (c) => c.type === type,
  );
}

/** Follows a path of child types (e.g. 'mdia', 'minf', 'stbl'); undefined when a step is missing. */
export function findPath(buf: Buffer, parent: BoxHeader, ...path: string[]): BoxHeader | undefined {
  let cur: BoxHeader | undefined = parent;
  for (const type of path) {
    if (!cur) return undefined;
    cur = findChild(buf, cur, type);
  }
  return cur;
}
