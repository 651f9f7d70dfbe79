import { EstuaryError } from '../../errors.js';
import { BitReader } from '../../util/bit-reader.js';
import { AAC_SAMPLE_RATES, type AacConfig, aacChannelCount } from './audio-specific-config.js';

/** ADTS header without CRC (protection_absent = 1), ISO/IEC 14496-3 1.A.2.2. */
export const ADTS_HEADER_SIZE = 7;
/** With CRC (protection_absent = 0) the 16-bit crc_check follows the fixed+variable header. */
const ADTS_HEADER_SIZE_CRC = 9;
/** aac_frame_length is 13 bits and includes the header (1.A.3.2.2). */
const MAX_ADTS_FRAME = 0x1fff;
/** 12-bit syncword 0xFFF (1.A.2.2.1). */
const SYNCWORD = 0xfff;
/** adts_buffer_fullness 0x7FF: a variable-bit-rate stream (1.A.3.2.2). */
const BUFFER_FULLNESS_VBR = 0x7ff;

/**
 * Builds a 7-byte ADTS header for one raw AAC frame of `payloadLength` bytes. ADTS has a 2-bit
 * profile (object type - 1), so only object types 1..4 with a tabled rate and channel config
 * 1..7 fit; HE-AAC goes as its AAC-LC core (implicit SBR signalling).
 */
export function buildAdtsHeader(config: AacConfig, payloadLength: number): Buffer {
  const frameLength = payloadLength + ADTS_HEADER_SIZE;
  if (config.objectType < 1 || config.objectType > 4) {
    throw new EstuaryError(
      'ERR_CODEC_UNSUPPORTED',
      `ADTS cannot carry AAC object type ${config.objectType} (1..4)`,
    );
  }
  if (config.sampleRateIndex >= AAC_SAMPLE_RATES.length) {
    throw new EstuaryError(
      'ERR_CODEC_UNSUPPORTED',
      `ADTS cannot carry sample rate index ${config.sampleRateIndex}`,
    );
  }
  if (config.channelConfig > 7) {
    throw new EstuaryError(
      'ERR_CODEC_UNSUPPORTED',
      `ADTS cannot carry channel configuration ${config.channelConfig}`,
    );
  }
  if (!Number.isInteger(payloadLength) || payloadLength < 0 || frameLength > MAX_ADTS_FRAME) {
    throw new EstuaryError('ERR_CODEC_UNSUPPORTED', `AAC frame of ${payloadLength} bytes does not fit ADTS`);
  }
  // The 56 bits laid out by hand (a BitWriter per frame cost ~2 µs, for every AAC frame of every
  // HLS segment). adts_fixed_header (1.A.2.2.1): syncword 0xFFF, ID 0 (MPEG-4), layer 0,
  // protection_absent 1, profile_ObjectType, sampling_frequency_index, private_bit 0,
  // channel_configuration, original_copy 0, home 0; adts_variable_header (1.A.2.2.2):
  // copyright_identification_bit/start 0, aac_frame_length (13), adts_buffer_fullness 0x7FF
  // (variable bit rate), number_of_raw_data_blocks_in_frame 0 (one block).
  const out = Buffer.allocUnsafe(ADTS_HEADER_SIZE);
  out[0] = SYNCWORD >> 4;
  out[1] = ((SYNCWORD & 0xf) << 4) | 0x01;
  out[2] = ((config.objectType - 1) << 6) | (config.sampleRateIndex << 2) | (config.channelConfig >> 2);
  out[3] = ((config.channelConfig & 0x3) << 6) | (frameLength >> 11);
  out[4] = (frameLength >> 3) & 0xff;
  out[5] = ((frameLength & 0x7) << 5) | (BUFFER_FULLNESS_VBR >> 6);
  out[6] = (BUFFER_FULLNESS_VBR & 0x3f) << 2;
  return out;
}

/** Reads one ADTS header at `off`; returns the config it declares, header size and frame length. */
export function parseAdtsHeader(
  buf: Buffer,
  off = 0,
): { config: AacConfig; headerSize: number; frameLength: number } {
  if (off + ADTS_HEADER_SIZE > buf.length) {
    throw new EstuaryError('ERR_CODEC_CONFIG', `ADTS: truncated header at ${off}`);
  }
  const r = new BitReader(buf.subarray(off, off + ADTS_HEADER_SIZE));
  if (r.readBits(12) !== SYNCWORD) throw new EstuaryError('ERR_CODEC_CONFIG', `ADTS: no syncword at ${off}`);
  r.skipBits(3); // ID, layer
  const protectionAbsent = r.readBit();
  const objectType = r.readBits(2) + 1;
  const sampleRateIndex = r.readBits(4);
  r.skipBits(1); // private_bit
  const channelConfig = r.readBits(3);
  r.skipBits(4); // original_copy, home, copyright bits
  const frameLength = r.readBits(13);
  r.skipBits(11); // adts_buffer_fullness
  const rawBlocks = r.readBits(2);
  const sampleRate = AAC_SAMPLE_RATES[sampleRateIndex];
  if (sampleRate === undefined) {
    throw new EstuaryError('ERR_CODEC_CONFIG', `ADTS: reserved sampling_frequency_index ${sampleRateIndex}`);
  }
  const headerSize = protectionAbsent ? ADTS_HEADER_SIZE : ADTS_HEADER_SIZE_CRC;
  if (frameLength < headerSize) {
    throw new EstuaryError('ERR_CODEC_CONFIG', `ADTS: aac_frame_length ${frameLength} < header size`);
  }
  if (rawBlocks !== 0) {
    // Several raw_data_blocks per frame need per-block positions (1.A.2.3); no encoder in use sends them.
    throw new EstuaryError(
      'ERR_CODEC_UNSUPPORTED',
      'ADTS frames with more than one raw data block are not supported',
    );
  }
  const config: AacConfig = {
    objectType,
    sampleRateIndex,
    sampleRate,
    channelConfig,
    channels: aacChannelCount(channelConfig),
  };
  return { config, headerSize, frameLength };
}

/** Splits a run of ADTS frames into raw AAC frames (subarrays). The config is the first frame's. */
export function parseAdtsFrames(buf: Buffer): { config: AacConfig; frames: Buffer[] } {
  const frames: Buffer[] = [];
  let config: AacConfig | undefined;
  let off = 0;
  while (off < buf.length) {
    const h = parseAdtsHeader(buf, off);
    if (off + h.frameLength > buf.length) {
      throw new EstuaryError(
        'ERR_CODEC_CONFIG',
        `ADTS: frame of ${h.frameLength} bytes at ${off} is truncated`,
      );
    }
    config ??= h.config;
    frames.push(buf.subarray(off + h.headerSize, off + h.frameLength));
    off += h.frameLength;
  }
  if (!config) throw new EstuaryError('ERR_CODEC_CONFIG', 'ADTS: no frames');
  return { config, frames };
}
