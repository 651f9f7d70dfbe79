/**
 * The two shapes every ISO BMFF box takes (ISO/IEC 14496-12 4.2): `Box` = size(32) type(32) payload,
 * `FullBox` = Box + version(8) flags(24). Plus the integer field writers the box functions share.
 */
import { EstuaryError } from '../../errors.js';

/** 2^32: the first value a 32-bit size/offset field cannot hold. */
export const TWO_POW_32 = 2 ** 32;

function checkType(type: string): void {
  if (type.length !== 4) throw new EstuaryError('ERR_MP4_FORMAT', `box type must be 4 characters: '${type}'`);
}

/** size(32) type(32) then the payload parts, concatenated once. */
export function box(type: string, ...payload: Buffer[]): Buffer {
  checkType(type);
  let size = 8;
  for (const p of payload) size += p.length;
  // Boxes built here (moov and its children, moof) never approach 4 GiB; mdat has its own header.
  if (size >= TWO_POW_32) throw new EstuaryError('ERR_MP4_FORMAT', `box '${type}' too large: ${size} bytes`);
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32BE(size, 0);
  out.write(type, 4, 'latin1');
  let off = 8;
  for (const p of payload) off += p.copy(out, off);
  return out;
}

/** A FullBox (14496-12 4.2): version(8) flags(24) precede the payload. */
export function fullBox(type: string, version: number, flags: number, ...payload: Buffer[]): Buffer {
  const vf = Buffer.allocUnsafe(4);
  vf.writeUInt32BE((((version & 0xff) << 24) >>> 0) + (flags & 0xffffff), 0);
  return box(type, vf, ...payload);
}

/** Big-endian unsigned 32-bit fields. */
export function u32s(...values: number[]): Buffer {
  const out = Buffer.allocUnsafe(values.length * 4);
  for (let i = 0; i < values.length; i++) out.writeUInt32BE(values[i] >>> 0, i * 4);
  return out;
}

/** Writes an unsigned 64-bit value held in a JS number (exact up to 2^53). */
export function writeU64(buf: Buffer, value: number, off: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new EstuaryError('ERR_MP4_FORMAT', `64-bit field out of range: ${value}`);
  }
  buf.writeUInt32BE(Math.floor(value / TWO_POW_32), off);
  buf.writeUInt32BE(value % TWO_POW_32, off + 4);
}

export function u64(value: number): Buffer {
  const out = Buffer.allocUnsafe(8);
  writeU64(out, value, 0);
  return out;
}

/** A four-character code as 4 bytes. */
export function fourcc(code: string): Buffer {
  checkType(code);
  return Buffer.from(code, 'latin1');
}

/** Checks that a value fits an unsigned 32-bit field; the caller names the field for the error. */
export function checkU32(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value >= TWO_POW_32) {
    throw new EstuaryError('ERR_MP4_FORMAT', `${field} does not fit 32 bits: ${value}`);
  }
  return value;
}
