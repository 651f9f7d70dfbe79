/**
 * Video access units as MPEG-TS carries them: Annex B byte stream (H.264 Annex B, H.265 Annex B;
 * H.222.0 2.14 / 2.17), whereas the frame model holds AVCC/HVCC length-prefixed NAL units.
 *
 * Two things are added on the way:
 * - An access unit delimiter first in every access unit. A PES of a video stream may have
 *   PES_packet_length 0, so the only marker of where one picture ends is the next AUD; Apple's
 *   HLS authoring specification and iOS/QuickTime/Safari decoders expect it, and it is what
 *   FFmpeg (h264_mp4toannexb + mpegts) and mediacommon's writer emit. H.264 7.4.1.2.3 and
 *   H.265 7.4.2.4.4 require an AUD, when present, to be the first NAL unit of its access unit,
 *   so any AUD already in the frame is dropped and ours is put first.
 * - The parameter sets from the configuration record before every random access point that
 *   does not carry them itself: MP4/FLV keep them out of band, but each HLS segment must be
 *   decodable on its own (RFC 8216 3, and every segment starts at a keyframe).
 */

import { parseAvcConfig } from '../../codecs/h264/avc-config.js';
import { h264NaluType, NaluType, splitAvcc } from '../../codecs/h264/nalu.js';
import { parseHevcConfig } from '../../codecs/h265/hevc-config.js';
import { HevcNaluType, hevcNaluType, isHevcIrap } from '../../codecs/h265/nalu.js';
import { EstuaryError } from '../../errors.js';
import type { VideoTrack } from '../../media/track.js';

/** What the converter needs from the configuration record. */
export interface VideoParams {
  readonly codec: 'h264' | 'h265';
  readonly lengthSize: 1 | 2 | 4;
  /** SPS then PPS (H.264) or VPS, SPS, PPS (H.265): the order H.264 7.4.1.2.3 / H.265 7.4.2.4.4 want. */
  readonly paramSets: readonly Buffer[];
}

/** The 4-byte start code (zero_byte + start_code_prefix_one_3bytes, H.264 B.1.1). */
const START_CODE = Buffer.from([0, 0, 0, 1]);
/**
 * H.264 AUD (7.3.2.4): NAL header 0x09 (nal_ref_idc 0, type 9), then primary_pic_type 7 ("any
 * slice type", Table 7-5) and the rbsp stop bit: 0b111_1_0000.
 */
const H264_AUD = Buffer.from([0x09, 0xf0]);
/**
 * H.265 AUD (7.3.2.5): 2-byte NAL header for type 35, layer 0, temporal_id_plus1 1 (0x46 0x01),
 * then pic_type 2 ("I, P or B slices", Table 7-2) and the rbsp stop bit: 0b010_1_0000.
 */
const H265_AUD = Buffer.from([0x46, 0x01, 0x50]);

/** Reads what the converter needs from the track's avcC/hvcC. */
export function videoParamsFor(track: VideoTrack): VideoParams {
  if (track.codec !== 'h264' && track.codec !== 'h265') {
    throw new EstuaryError(
      'ERR_CODEC_UNSUPPORTED',
      `MPEG-TS video supports H.264 and H.265, not ${track.codec}`,
    );
  }
  if (!track.config) {
    throw new EstuaryError('ERR_CODEC_CONFIG', `${track.codec} track has no decoder configuration record`);
  }
  if (track.codec === 'h264') {
    const c = parseAvcConfig(track.config);
    return { codec: 'h264', lengthSize: c.lengthSize, paramSets: [...c.sps, ...c.pps] };
  }
  const c = parseHevcConfig(track.config);
  return { codec: 'h265', lengthSize: c.lengthSize, paramSets: [...c.vps, ...c.sps, ...c.pps] };
}

/** Per-codec view of NAL unit types: which to drop, which mark a random access point. */
interface NalRules {
  aud: Buffer;
  type(nal: Buffer): number;
  audType: number;
  spsType: number;
  isRandomAccess(type: number): boolean;
}

const H264_RULES: NalRules = {
  aud: H264_AUD,
  type: h264NaluType,
  audType: NaluType.Aud,
  spsType: NaluType.Sps,
  isRandomAccess: (t) => t === NaluType.Idr,
};

const H265_RULES: NalRules = {
  aud: H265_AUD,
  type: hevcNaluType,
  audType: HevcNaluType.Aud,
  spsType: HevcNaluType.Sps,
  isRandomAccess: isHevcIrap,
};

/**
 * Converts one AVCC/HVCC access unit to Annex B: AUD, then (before a random access point that
 * lacks them) the configuration record's parameter sets, then the frame's own NAL units. A
 * frame flagged `keyframe` counts as a random access point even without an IDR/IRAP NAL (an
 * open-GOP recovery point), since players start decoding there too.
 *
 * Returns an empty Buffer when the frame holds no NAL units (some encoders send empty video
 * packets); the caller skips it rather than emit a picture-less access unit.
 */
export function toAnnexBAccessUnit(
  data: Buffer,
  params: VideoParams,
  keyframe: boolean,
  /** Written into when large enough (a view of it is returned), instead of a new Buffer. */
  scratch?: Buffer,
): Buffer {
  const rules = params.codec === 'h264' ? H264_RULES : H265_RULES;
  const nalus: Buffer[] = [];
  let randomAccess = keyframe;
  let hasSps = false;
  for (const nal of splitAvcc(data, params.lengthSize)) {
    if (nal.length === 0) continue;
    const type = rules.type(nal);
    if (type === rules.audType) continue;
    if (type === rules.spsType) hasSps = true;
    if (rules.isRandomAccess(type)) randomAccess = true;
    nalus.push(nal);
  }
  if (nalus.length === 0) return Buffer.alloc(0);
  const parts: Buffer[] = [rules.aud];
  if (randomAccess && !hasSps) parts.push(...params.paramSets);
  parts.push(...nalus);
  let total = 0;
  for (const p of parts) total += START_CODE.length + p.length;
  const out = scratch && scratch.length >= total ? scratch.subarray(0, total) : Buffer.allocUnsafe(total);
  let off = 0;
  for (const p of parts) {
    START_CODE.copy(out, off);
    p.copy(out, off + START_CODE.length);
    off += START_CODE.length + p.length;
  }
  return out;
}
