/**
 * A bounds-checked read cursor over one Buffer, shared by the AMF0 and AMF3 decoders. Every read
 * checks the remaining length first, so truncated input throws ERR_AMF_DECODE instead of a
 * RangeError, and no length taken from the input is trusted before the bytes are there.
 */
import { EstuaryError } from '../../errors.js';

export function amfError(message: string): EstuaryError {
  return new EstuaryError('ERR_AMF_DECODE', message);
}

/** A value the decoder refuses for its size or shape, not for being malformed. */
export function amfLimitError(message: string): EstuaryError {
  return new EstuaryError('ERR_AMF_LIMIT', message);
}

/**
 * What one decode may expand to. AMF references (AMF0 2.9, AMF3 2.2) let a few hundred bytes
 * describe a tree of 2^30 values; decoding them is linear (the references share objects), but
 * anything that walks the result (re-encoding onMetaData into a recording, JSON, a logger) does
 * so once per path. Counting each reference as the size of what it refers to bounds that walk.
 */
export interface AmfLimits {
  /** Values in the tree with every reference expanded (each value counts 1). */
  readonly maxNodes?: number;
  /** Bytes the tree would take written out with every reference expanded. */
  readonly maxExpandedBytes?: number;
}

/**
 * onMetaData from encoders holds tens of values; a keyframe index of a 10-hour file about 36,000.
 * Re-encoding 65,536 values or 1 MiB takes milliseconds.
 */
export const DEFAULT_AMF_LIMITS = { maxNodes: 65_536, maxExpandedBytes: 1024 * 1024 } as const;

/** The expanded size of a decoded complex value, for references to it. */
export interface AmfSize {
  readonly nodes: number;
  readonly bytes: number;
}

/** Where a complex value started (see `AmfCursor.sizeSince`). */
export interface AmfMark {
  readonly nodes: number;
  readonly offset: number;
  readonly extra: number;
}

export class AmfCursor {
  private readonly maxNodes: number;
  private readonly maxExpandedBytes: number;
  private readonly start: number;
  /** Values read so far, references counted as the size of what they refer to. */
  private nodes = 0;
  /** Bytes added by expanding references. */
  private extra = 0;

  constructor(
    readonly buf: Buffer,
    public offset: number,
    limits: AmfLimits = {},
  ) {
    if (!Number.isInteger(offset) || offset < 0 || offset > buf.length) {
      throw amfError(`AMF offset ${offset} is outside the ${buf.length}-byte buffer`);
    }
    this.start = offset;
    this.maxNodes = limits.maxNodes ?? DEFAULT_AMF_LIMITS.maxNodes;
    this.maxExpandedBytes = limits.maxExpandedBytes ?? DEFAULT_AMF_LIMITS.maxExpandedBytes;
  }

  /** Counts one value. */
  node(): void {
    if (++this.nodes > this.maxNodes) {
      throw amfLimitError(`AMF value has more than ${this.maxNodes} values (references expanded)`);
    }
  }

  mark(): AmfMark {
    return { nodes: this.nodes, offset: this.offset, extra: this.extra };
  }

  /** The expanded size of what was read since `m`. */
  sizeSince(m: AmfMark): AmfSize {
    return { nodes: this.nodes - m.nodes, bytes: this.offset - m.offset + this.extra - m.extra };
  }

  /**
   * Counts a reference as the value it refers to. `size` is undefined while that value is still
   * being decoded: the reference is inside it, a cycle, which the plain-data value model cannot
   * hold (and a walk of it would never end).
   */
  expand(size: AmfSize | undefined, what: string): void {
    if (size === undefined) {
      throw amfLimitError(`AMF ${what} refers to an object that contains it (a cycle)`);
    }
    this.nodes += size.nodes;
    this.extra += size.bytes;
    if (this.nodes > this.maxNodes) {
      throw amfLimitError(`AMF value has more than ${this.maxNodes} values (references expanded)`);
    }
    if (this.offset - this.start + this.extra > this.maxExpandedBytes) {
      throw amfLimitError(`AMF value expands to more than ${this.maxExpandedBytes} bytes through references`);
    }
  }

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  /** Throws unless `n` more bytes are present; `what` names the field for the message. */
  need(n: number, what: string): void {
    if (n > this.remaining) {
      throw amfError(
        `AMF ${what} truncated at offset ${this.offset}: needs ${n} bytes, ${this.remaining} left`,
      );
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.offset++];
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  s16(what: string): number {
    this.need(2, what);
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  f64(what: string): number {
    this.need(8, what);
    const v = this.buf.readDoubleBE(this.offset);
    this.offset += 8;
    return v;
  }

  utf8(len: number, what: string): string {
    this.need(len, what);
    const s = this.buf.toString('utf8', this.offset, this.offset + len);
    this.offset += len;
    return s;
  }

  bytes(len: number, what: string): Buffer {
    this.need(len, what);
    const b = this.buf.subarray(this.offset, this.offset + len);
    this.offset += len;
    return b;
  }
}

/**
 * Sets an own enumerable property even when the key is `__proto__`, which plain assignment would
 * treat as a prototype change (decoded keys come from the network).
 */
export function setProperty<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}
