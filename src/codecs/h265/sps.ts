import { EstuaryError } from '../../errors.js';
import { BitReader } from '../../util/bit-reader.js';
import { removeEmulationPrevention } from '../h264/nalu.js';

/**
 * Reads an H.265 SPS (7.3.2.2.1) as far as the conformance window, which is all that is needed
 * for the display size. Emulation prevention is the same as H.264's (7.4.2).
 */
export function parseHevcSpsSize(nal: Buffer): { width: number; height: number; chromaFormatIdc: number } {
  if (nal.length < 3 || ((nal[0] >> 1) & 0x3f) !== 33) {
    throw new EstuaryError('ERR_CODEC_CONFIG', 'not an H.265 SPS NAL unit (nal_unit_type 33)');
  }
  const r = new BitReader(removeEmulationPrevention(nal.subarray(2)));
  r.skipBits(4); // sps_video_parameter_set_id
  const maxSubLayersMinus1 = r.readBits(3);
  r.skipBits(1); // sps_temporal_id_nesting_flag
  skipProfileTierLevel(r, maxSubLayersMinus1);
  r.readUE(); // sps_seq_parameter_set_id
  const chromaFormatIdc = r.readUE();
  if (chromaFormatIdc > 3)
    throw new EstuaryError('ERR_CODEC_CONFIG', `HEVC SPS chroma_format_idc ${chromaFormatIdc}`);
  const separateColourPlane = chromaFormatIdc === 3 ? r.readBit() : 0;
  let width = r.readUE(); // pic_width_in_luma_samples
  let height = r.readUE();
  if (r.readFlag()) {
    // conformance_window offsets are in chroma units (7-3, Table 6-1 SubWidthC / SubHeightC).
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
    const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
    const subHeightC = chromaArrayType === 1 ? 2 : 1;
    width -= subWidthC * (r.readUE() + r.readUE());
    height -= subHeightC * (r.readUE() + r.readUE());
  }
  if (width <= 0 || height <= 0) {
    throw new EstuaryError('ERR_CODEC_CONFIG', `HEVC SPS gives no picture (${width}x${height})`);
  }
  return { width, height, chromaFormatIdc };
}

/** profile_tier_level(1, maxSubLayersMinus1) (7.3.3). */
function skipProfileTierLevel(r: BitReader, maxSubLayersMinus1: number): void {
  // general profile (2+1+5+32+4+43+1 = 88 bits) and general_level_idc (8 bits).
  r.skipBits(96);
  const profilePresent: boolean[] = [];
  const levelPresent: boolean[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    profilePresent.push(r.readFlag());
    levelPresent.push(r.readFlag());
  }
  // reserved_zero_2bits for i in maxSubLayersMinus1..7 when there are sub-layers.
  if (maxSubLayersMinus1 > 0) r.skipBits(2 * (8 - maxSubLayersMinus1));
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (profilePresent[i]) r.skipBits(88);
    if (levelPresent[i]) r.skipBits(8);
  }
}
