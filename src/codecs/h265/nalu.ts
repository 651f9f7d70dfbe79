import { EstuaryError } from '../../errors.js';

/** nal_unit_type values Estuary looks at (H.265 7.4.2.2, Table 7-1). */
export const HevcNaluType = {
  /** IRAP pictures (BLA, IDR, CRA and the reserved IRAP types) are 16..23. */
  IrapFirst: 16,
  IrapLast: 23,
  IdrWRadl: 19,
  IdrNLp: 20,
  Cra: 21,
  Vps: 32,
  Sps: 33,
  Pps: 34,
  Aud: 35,
  PrefixSei: 39,
  SuffixSei: 40,
} as const;

/** nal_unit_type is bits 1..6 of the 2-byte NAL header (H.265 7.3.1.2). */
export function hevcNaluType(nalu: Buffer): number {
  if (nalu.length < 2)
    throw new EstuaryError('ERR_CODEC_CONFIG', 'HEVC NAL unit shorter than its 2-byte header');
  return (nalu[0] >> 1) & 0x3f;
}

/** An IRAP NAL unit starts a random access point: what a keyframe is for H.265. */
export function isHevcIrap(type: number): boolean {
  return type >= HevcNaluType.IrapFirst && type <= HevcNaluType.IrapLast;
}
