import { EstuaryError } from '../../errors.js';

/** nal_unit_type values Estuary looks at (H.264 7.4.1, Table 7-1). */
export const NaluType = {
  Slice: 1,
  Idr: 5,
  Sei: 6,
  Sps: 7,
  Pps: 8,
  Aud: 9,
  EndOfSequence: 10,
  EndOfStream: 11,
  Filler: 12,
} as const;

/** nal_unit_type is the low 5 bits of the first NAL header byte (H.264 7.3.1). */
export function h264NaluType(nalu: Buffer): number {
  if (nalu.length === 0) throw new EstuaryError('ERR_CODEC_CONFIG', 'empty NAL unit');
  return nalu[0] & 0x1f;
}

/**
 * Splits length-prefixed NAL units (ISO/IEC 14496-15 5.3.4.2: "AVCC", the form MP4 and FLV store)
 * into subarrays of `data` (no copies). A length running past the end throws.
 */
export function splitAvcc(data: Buffer, lengthSize: 1 | 2 | 4 = 4): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  while (off < data.length) {
    if (off + lengthSize > data.length) {
      throw new EstuaryError('ERR_CODEC_CONFIG', `AVCC: truncated ${lengthSize}-byte NAL length at ${off}`);
    }
    const len = data.readUIntBE(off, lengthSize);
    off += lengthSize;
    if (off + len > data.length) {
      throw new EstuaryError(
        'ERR_CODEC_CONFIG',
        `AVCC: NAL unit of ${len} bytes at ${off} runs past the end (${data.length})`,
      );
    }
    out.push(data.subarray(off, off + len));
    off += len;
  }
  return out;
}

/**
 * Splits an Annex B byte stream (H.264 Annex B.1: NAL units behind 0x000001 or 0x00000001 start
 * codes) into NAL unit subarrays, without start codes. Bytes before the first start code are
 * ignored; trailing zero bytes of a NAL unit (trailing_zero_8bits) are dropped.
 */
export function splitAnnexB(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = -1;
  let i = 0;
  while (i + 2 < data.length) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      if (start >= 0) pushTrimmed(out, data, start, i);
      i += 3;
      start = i;
    } else {
      i += 1;
    }
  }
  if (start >= 0) pushTrimmed(out, data, start, data.length);
  return out;
}

function pushTrimmed(out: Buffer[], data: Buffer, start: number, end: number): void {
  let e = end;
  while (e > start && data[e - 1] === 0) e -= 1;
  if (e > start) out.push(data.subarray(start, e));
}

/** Joins NAL units into AVCC with 4-byte lengths (the size buildAvcConfig declares). */
export function annexBToAvcc(nalus: Buffer[]): Buffer {
  let total = 0;
  for (const n of nalus) total += 4 + n.length;
  const out = Buffer.allocUnsafe(total);
  let off = 0;
  for (const n of nalus) {
    out.writeUInt32BE(n.length, off);
    n.copy(out, off + 4);
    off += 4 + n.length;
  }
  return out;
}

/** Joins NAL units into Annex B with 4-byte start codes (what MPEG-TS carries, H.222.0 2.14). */
export function nalusToAnnexB(nalus: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  const startCode = Buffer.from([0, 0, 0, 1]);
  for (const n of nalus) parts.push(startCode, n);
  return Buffer.concat(parts);
}

/**
 * Removes emulation_prevention_three_byte (H.264 7.4.1: a 0x03 after two zero bytes, before a
 * byte ≤ 3) to turn a NAL unit's payload into its RBSP. Returns the input when there are none.
 */
export function removeEmulationPrevention(nal: Buffer): Buffer {
  let found = -1;
  for (let i = 2; i < nal.length; i++) {
    if (nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0) {
      found = i;
      break;
    }
  }
  if (found < 0) return nal;
  const out = Buffer.allocUnsafe(nal.length);
  let o = 0;
  let zeros = 0;
  for (let i = 0; i < nal.length; i++) {
    const b = nal[i];
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[o++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, o);
}
