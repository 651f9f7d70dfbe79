/**
 * A bounds-checked read cursor over one Buffer, shared by the AMF0 and AMF3 decoders. Every read
 * checks the remaining length first, so truncated input throws ERR_AMF_DECODE instead of a
 * RangeError, and no length taken from the input is trusted before the bytes are there.
 */
import { EstuaryError } from '../../errors.js';

export function amfError(message: string): EstuaryError {
  return new EstuaryError('ERR_AMF_DECODE', message);
}

export class AmfCursor {
  constructor(
    readonly buf: Buffer,
    public offset: number,
  ) {
    if (!Number.isInteger(offset) || offset < 0 || offset > buf.length) {
      throw amfError(`AMF offset ${offset} is outside the ${buf.length}-byte buffer`);
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
