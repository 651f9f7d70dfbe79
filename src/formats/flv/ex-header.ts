import { EstuaryError } from '../../errors.js';

/** The ModEx packet type value, 7 in both ExVideoTagHeader and ExAudioTagHeader. */
const MOD_EX = 7;

/**
 * Walks the Enhanced RTMP v2 ModEx chain that may follow the first byte of an Ex header:
 * modExDataSize (UI8 + 1, or UI16 + 1 after a 0xFF escape), modExData, then a byte whose low
 * nibble is the next packet type. The only modifier defined (TimestampOffsetNano) is below our
 * millisecond resolution, so the data are skipped. Returns the real packet type and the offset
 * after the chain.
 */
export function skipModEx(
  body: Buffer,
  packetType: number,
  offset: number,
): { packetType: number; offset: number } {
  let type = packetType;
  let off = offset;
  while (type === MOD_EX) {
    if (off + 1 > body.length) throw truncated();
    let size = body[off] + 1;
    off += 1;
    if (size === 256) {
      if (off + 2 > body.length) throw truncated();
      size = body.readUInt16BE(off) + 1;
      off += 2;
    }
    off += size;
    if (off + 1 > body.length) throw truncated();
    type = body[off] & 0x0f;
    off += 1;
  }
  return { packetType: type, offset: off };
}

function truncated(): EstuaryError {
  return new EstuaryError('ERR_FLV_FORMAT', 'Enhanced RTMP ModEx header is truncated');
}

/** Reads a signed 24-bit big-endian integer (SI24, the composition time offset). */
export function readSI24(buf: Buffer, off: number): number {
  const v = buf.readUIntBE(off, 3);
  return v & 0x800000 ? v - 0x1000000 : v;
}

export function writeSI24(buf: Buffer, value: number, off: number): void {
  if (!Number.isInteger(value) || value < -0x800000 || value > 0x7fffff) {
    throw new EstuaryError('ERR_FLV_FORMAT', `composition time offset ${value} ms does not fit SI24`);
  }
  buf.writeUIntBE(value < 0 ? value + 0x1000000 : value, off, 3);
}
