import { EstuaryError } from '../../errors.js';
import { HevcNaluType } from './nalu.js';
import { parseHevcSpsSize } from './sps.js';

/** HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3.1), the hvcC box and Enhanced RTMP sequence start. */
export interface HevcConfig {
  generalProfileSpace: number;
  generalTierFlag: number;
  generalProfileIdc: number;
  generalProfileCompatibilityFlags: number;
  /** The 6 bytes of general_constraint_indicator_flags. */
  generalConstraintIndicatorFlags: Buffer;
  generalLevelIdc: number;
  chromaFormatIdc: number;
  lengthSize: 1 | 2 | 4;
  vps: Buffer[];
  sps: Buffer[];
  pps: Buffer[];
  /** From the first SPS, 0 when it could not be parsed. */
  width: number;
  height: number;
}

/** Fixed part of hvcC before the NAL unit arrays (8.3.3.1.2). */
const HVCC_FIXED_SIZE = 23;

function fail(msg: string): never {
  throw new EstuaryError('ERR_CODEC_CONFIG', `hvcC: ${msg}`);
}

export function parseHevcConfig(buf: Buffer): HevcConfig {
  if (buf.length < HVCC_FIXED_SIZE) fail(`${buf.length} bytes is too short`);
  if (buf[0] !== 1) fail(`configurationVersion ${buf[0]} is not 1`);
  const lengthSizeMinusOne = buf[21] & 0x03;
  if (lengthSizeMinusOne === 2) fail('lengthSizeMinusOne 2 (3-byte lengths) is not allowed');
  const vps: Buffer[] = [];
  const sps: Buffer[] = [];
  const pps: Buffer[] = [];
  const numArrays = buf[22];
  let off = HVCC_FIXED_SIZE;
  for (let a = 0; a < numArrays; a++) {
    if (off + 3 > buf.length) fail('truncated NAL unit array header');
    const type = buf[off] & 0x3f; // array_completeness(1), reserved(1), NAL_unit_type(6)
    const count = buf.readUInt16BE(off + 1);
    off += 3;
    const list =
      type === HevcNaluType.Vps
        ? vps
        : type === HevcNaluType.Sps
          ? sps
          : type === HevcNaluType.Pps
            ? pps
            : [];
    for (let i = 0; i < count; i++) {
      if (off + 2 > buf.length) fail('truncated NAL unit length');
      const len = buf.readUInt16BE(off);
      off += 2;
      if (off + len > buf.length) fail(`NAL unit of ${len} bytes runs past the end`);
      list.push(buf.subarray(off, off + len));
      off += len;
    }
  }
  let width = 0;
  let height = 0;
  if (sps.length > 0) ({ width, height } = parseHevcSpsSize(sps[0]));
  return {
    generalProfileSpace: buf[1] >> 6,
    generalTierFlag: (buf[1] >> 5) & 1,
    generalProfileIdc: buf[1] & 0x1f,
    generalProfileCompatibilityFlags: buf.readUInt32BE(2),
    generalConstraintIndicatorFlags: Buffer.from(buf.subarray(6, 12)),
    generalLevelIdc: buf[12],
    chromaFormatIdc: buf[16] & 0x03,
    lengthSize: (lengthSizeMinusOne + 1) as 1 | 2 | 4,
    vps,
    sps,
    pps,
    width,
    height,
  };
}

/**
 * Codec string per ISO/IEC 14496-15 Annex E.3 (RFC 6381 style): e.g. hvc1.1.6.L93.B0 =
 * Main profile, compatibility flags bit-reversed in hex, tier L/H + level_idc, then the
 * constraint bytes in hex with trailing zero bytes left out.
 */
export function hevcCodecString(config: HevcConfig, sampleEntry: 'hvc1' | 'hev1' = 'hvc1'): string {
  const space = ['', 'A', 'B', 'C'][config.generalProfileSpace] ?? '';
  let reversed = 0;
  for (let i = 0; i < 32; i++) {
    if ((config.generalProfileCompatibilityFlags >>> i) & 1) reversed |= 1 << (31 - i);
  }
  const parts = [
    sampleEntry,
    `${space}${config.generalProfileIdc}`,
    (reversed >>> 0).toString(16).toUpperCase(),
    `${config.generalTierFlag ? 'H' : 'L'}${config.generalLevelIdc}`,
  ];
  const constraints = [...config.generalConstraintIndicatorFlags];
  while (constraints.length > 0 && constraints[constraints.length - 1] === 0) constraints.pop();
  for (const b of constraints) parts.push(b.toString(16).toUpperCase().padStart(2, '0'));
  return parts.join('.');
}
