import { EstuaryError } from '../../errors.js';
import { parseH264Sps } from './sps.js';

/** AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1), the avcC box and FLV AVC sequence header. */
export interface AvcConfig {
  profile: number;
  compatibility: number;
  level: number;
  /** Size of the NAL unit length prefix in frames (lengthSizeMinusOne + 1; 3 is not allowed). */
  lengthSize: 1 | 2 | 4;
  sps: Buffer[];
  pps: Buffer[];
}

function fail(msg: string): never {
  throw new EstuaryError('ERR_CODEC_CONFIG', `avcC: ${msg}`);
}

/** Parses avcC. NAL units are subarrays of `buf`. The high-profile trailer (5.3.3.1.2) is tolerated and ignored. */
export function parseAvcConfig(buf: Buffer): AvcConfig {
  // configurationVersion, profile, compatibility, level, lengthSizeMinusOne, numOfSPS: 6 bytes.
  if (buf.length < 7) fail(`${buf.length} bytes is too short`);
  if (buf[0] !== 1) fail(`configurationVersion ${buf[0]} is not 1`);
  const lengthSizeMinusOne = buf[4] & 0x03;
  if (lengthSizeMinusOne === 2) fail('lengthSizeMinusOne 2 (3-byte lengths) is not allowed');
  let off = 5;
  const readList = (count: number): Buffer[] => {
    const list: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      if (off + 2 > buf.length) fail('truncated parameter set length');
      const len = buf.readUInt16BE(off);
      off += 2;
      if (off + len > buf.length) fail(`parameter set of ${len} bytes runs past the end`);
      list.push(buf.subarray(off, off + len));
      off += len;
    }
    return list;
  };
  const sps = readList(buf[off++] & 0x1f); // 3 reserved bits + numOfSequenceParameterSets (5 bits)
  if (off + 1 > buf.length) fail('truncated numOfPictureParameterSets');
  const pps = readList(buf[off++]);
  return {
    profile: buf[1],
    compatibility: buf[2],
    level: buf[3],
    lengthSize: (lengthSizeMinusOne + 1) as 1 | 2 | 4,
    sps,
    pps,
  };
}

/** Profiles whose avcC carries chroma_format / bit depth trailer bytes (14496-15 5.3.3.1.2). */
const TRAILER_PROFILES = new Set([100, 110, 122, 144]);

/** Builds avcC from parameter sets (without start codes), with 4-byte NAL lengths. */
export function buildAvcConfig(sps: Buffer[], pps: Buffer[]): Buffer {
  if (sps.length === 0 || sps[0].length < 4) fail('needs at least one SPS of 4 bytes or more');
  if (sps.length > 31) fail(`${sps.length} SPS do not fit the 5-bit count`);
  if (pps.length > 255) fail(`${pps.length} PPS do not fit the 8-bit count`);
  const first = sps[0];
  const parts: Buffer[] = [
    Buffer.from([
      1, // configurationVersion
      first[1], // profile_idc
      first[2], // constraint flags
      first[3], // level_idc
      0xfc | 3, // 6 reserved bits set, lengthSizeMinusOne = 3
      0xe0 | sps.length, // 3 reserved bits set, numOfSequenceParameterSets
    ]),
  ];
  const pushList = (list: Buffer[]) => {
    for (const ps of list) {
      if (ps.length > 0xffff) fail(`parameter set of ${ps.length} bytes exceeds 16-bit length`);
      const len = Buffer.allocUnsafe(2);
      len.writeUInt16BE(ps.length, 0);
      parts.push(len, ps);
    }
  };
  pushList(sps);
  parts.push(Buffer.from([pps.length]));
  pushList(pps);
  if (TRAILER_PROFILES.has(first[1])) {
    const info = parseH264Sps(first);
    parts.push(
      Buffer.from([
        0xfc | info.chromaFormatIdc,
        0xf8 | (info.bitDepthLuma - 8),
        0xf8 | (info.bitDepthChroma - 8),
        0, // numOfSequenceParameterSetExt
      ]),
    );
  }
  return Buffer.concat(parts);
}
