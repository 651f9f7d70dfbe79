import { EstuaryError } from '../../errors.js';
import { BitReader } from '../../util/bit-reader.js';
import { removeEmulationPrevention } from './nalu.js';

/** What Estuary needs from a sequence parameter set (H.264 7.3.2.1.1). */
export interface H264SpsInfo {
  profileIdc: number;
  /** The constraint_set flags byte, the "compatibility" byte of avcC and of the codec string. */
  constraintFlags: number;
  levelIdc: number;
  /** Display size after frame cropping (so 1920x1080, not the coded 1920x1088). */
  width: number;
  height: number;
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  /** From VUI timing info (time_scale / (2 * num_units_in_tick), E.2.1), when present. */
  frameRate?: number;
}

/**
 * profile_idc values whose SPS carries chroma_format_idc, bit depths and scaling matrices
 * (H.264 7.3.2.1.1, the `if (profile_idc == 100 || …)` branch).
 */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Parses an H.264 SPS NAL unit (with its 1-byte NAL header). */
export function parseH264Sps(nal: Buffer): H264SpsInfo {
  if (nal.length < 4 || (nal[0] & 0x1f) !== 7) {
    throw new EstuaryError('ERR_CODEC_CONFIG', 'not an H.264 SPS NAL unit (nal_unit_type 7)');
  }
  const r = new BitReader(removeEmulationPrevention(nal.subarray(1)));
  const profileIdc = r.readBits(8);
  const constraintFlags = r.readBits(8);
  const levelIdc = r.readBits(8);
  r.readUE(); // seq_parameter_set_id

  // Defaults when the syntax elements are absent (7.4.2.1.1): 4:2:0, 8-bit.
  let chromaFormatIdc = 1;
  let separateColourPlane = false;
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.readUE();
    if (chromaFormatIdc > 3)
      throw new EstuaryError('ERR_CODEC_CONFIG', `SPS chroma_format_idc ${chromaFormatIdc}`);
    if (chromaFormatIdc === 3) separateColourPlane = r.readFlag();
    bitDepthLuma = 8 + r.readUE();
    bitDepthChroma = 8 + r.readUE();
    r.skipBits(1); // qpprime_y_zero_transform_bypass_flag
    if (r.readFlag()) skipScalingMatrix(r, chromaFormatIdc !== 3 ? 8 : 12);
  }
  r.readUE(); // log2_max_frame_num_minus4
  skipPicOrderCnt(r);
  r.readUE(); // max_num_ref_frames
  r.skipBits(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.readUE() + 1;
  const heightMapUnits = r.readUE() + 1;
  const frameMbsOnly = r.readBit();
  if (!frameMbsOnly) r.skipBits(1); // mb_adaptive_frame_field_flag
  r.skipBits(1); // direct_8x8_inference_flag

  // Frame cropping in crop units (7.4.2.1.1, equations 7-19 to 7-22).
  let cropX = 0;
  let cropY = 0;
  if (r.readFlag()) {
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
    const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
    const subHeightC = chromaArrayType === 1 ? 2 : 1;
    const unitX = chromaArrayType === 0 ? 1 : subWidthC;
    const unitY = (chromaArrayType === 0 ? 1 : subHeightC) * (2 - frameMbsOnly);
    cropX = unitX * (r.readUE() + r.readUE());
    cropY = unitY * (r.readUE() + r.readUE());
  }
  // A macroblock is 16x16 luma samples; field coding doubles the map unit height (7-18).
  const width = widthMbs * 16 - cropX;
  const height = (2 - frameMbsOnly) * heightMapUnits * 16 - cropY;
  if (width <= 0 || height <= 0) {
    throw new EstuaryError('ERR_CODEC_CONFIG', `SPS cropping leaves no picture (${width}x${height})`);
  }
  const info: H264SpsInfo = {
    profileIdc,
    constraintFlags,
    levelIdc,
    width,
    height,
    chromaFormatIdc,
    bitDepthLuma,
    bitDepthChroma,
  };
  if (r.readFlag()) {
    const frameRate = readVuiFrameRate(r);
    if (frameRate !== undefined) info.frameRate = frameRate;
  }
  return info;
}

/** scaling_list() (7.3.2.1.1.1): delta-coded, so it must be walked to find what follows. */
function skipScalingMatrix(r: BitReader, count: number): void {
  for (let i = 0; i < count; i++) {
    if (!r.readFlag()) continue;
    const size = i < 6 ? 16 : 64;
    let lastScale = 8;
    let nextScale = 8;
    for (let j = 0; j < size; j++) {
      if (nextScale !== 0) {
        const delta = r.readSE();
        nextScale = (lastScale + delta + 256) % 256;
      }
      lastScale = nextScale === 0 ? lastScale : nextScale;
    }
  }
}

function skipPicOrderCnt(r: BitReader): void {
  const type = r.readUE();
  if (type === 0) {
    r.readUE(); // log2_max_pic_order_cnt_lsb_minus4
  } else if (type === 1) {
    r.skipBits(1); // delta_pic_order_always_zero_flag
    r.readSE(); // offset_for_non_ref_pic
    r.readSE(); // offset_for_top_to_bottom_field
    const cycle = r.readUE();
    // 7.4.2.1.1: num_ref_frames_in_pic_order_cnt_cycle is 0..255.
    if (cycle > 255) throw new EstuaryError('ERR_CODEC_CONFIG', `SPS POC cycle length ${cycle} > 255`);
    for (let i = 0; i < cycle; i++) r.readSE();
  } else if (type !== 2) {
    throw new EstuaryError('ERR_CODEC_CONFIG', `SPS pic_order_cnt_type ${type} is not 0, 1 or 2`);
  }
}

/**
 * Reads vui_parameters() (E.1.1) up to timing_info. The frame rate is informative only, so a VUI
 * cut short (some encoders truncate it) leaves it undefined instead of failing the whole SPS.
 */
function readVuiFrameRate(r: BitReader): number | undefined {
  try {
    if (r.readFlag()) {
      // aspect_ratio_idc 255 = Extended_SAR (Table E-1): 16-bit sar_width and sar_height follow.
      if (r.readBits(8) === 255) r.skipBits(32);
    }
    if (r.readFlag()) r.skipBits(1); // overscan_appropriate_flag
    if (r.readFlag()) {
      r.skipBits(4); // video_format, video_full_range_flag
      if (r.readFlag()) r.skipBits(24); // colour_primaries, transfer_characteristics, matrix_coefficients
    }
    if (r.readFlag()) {
      r.readUE(); // chroma_sample_loc_type_top_field
      r.readUE(); // chroma_sample_loc_type_bottom_field
    }
    if (!r.readFlag()) return undefined;
    const numUnitsInTick = r.readBits(32);
    const timeScale = r.readBits(32);
    if (numUnitsInTick === 0 || timeScale === 0) return undefined;
    // One frame is two field ticks (E.2.1: a tick is one field period).
    return timeScale / (2 * numUnitsInTick);
  } catch {
    return undefined;
  }
}
