import { EstuaryError } from '../../errors.js';
import { BitReader } from '../../util/bit-reader.js';
import { BitWriter } from '../../util/bit-writer.js';

/**
 * The core of an AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1). With explicit SBR/PS signalling
 * (object type 5 or 29) `objectType`, `sampleRate` and `channels` describe the core AAC stream,
 * which is what ADTS carries; `sbr`/`ps`/`extensionSampleRate` say what the decoder will output.
 */
export interface AacConfig {
  objectType: number;
  sampleRateIndex: number;
  sampleRate: number;
  channelConfig: number;
  channels: number;
  sbr?: boolean;
  ps?: boolean;
  extensionSampleRate?: number;
}

/** samplingFrequencyIndex → Hz (14496-3 1.6.3.4, Table 1.18); 13 and 14 are reserved, 15 = explicit. */
export const AAC_SAMPLE_RATES = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
] as const;

/** Escape value of samplingFrequencyIndex: a 24-bit sampling frequency follows. */
const EXPLICIT_RATE_INDEX = 15;
/** Escape value of audioObjectType: 32 + a 6-bit audioObjectTypeExt follows (1.6.2.1, GetAudioObjectType). */
const ESCAPE_OBJECT_TYPE = 31;
/** Explicit hierarchical signalling object types: SBR (HE-AAC) and PS (HE-AAC v2) (1.6.2.1). */
const AOT_SBR = 5;
const AOT_PS = 29;
/** ER BSAC, the one core type followed by extensionChannelConfiguration. */
const AOT_ER_BSAC = 22;

/** channelConfiguration → channel count (14496-3 1.6.3.5, Table 1.19); 0 = defined in a PCE. */
const CHANNELS_BY_CONFIG = [0, 1, 2, 3, 4, 5, 6, 8, 0, 0, 0, 7, 8, 24, 8, 0];

export function aacChannelCount(channelConfig: number): number {
  return CHANNELS_BY_CONFIG[channelConfig] ?? 0;
}

function readObjectType(r: BitReader): number {
  const aot = r.readBits(5);
  return aot === ESCAPE_OBJECT_TYPE ? 32 + r.readBits(6) : aot;
}

function readSampleRate(r: BitReader): { index: number; rate: number } {
  const index = r.readBits(4);
  if (index === EXPLICIT_RATE_INDEX) return { index, rate: r.readBits(24) };
  const rate = AAC_SAMPLE_RATES[index];
  if (rate === undefined) {
    throw new EstuaryError(
      'ERR_CODEC_CONFIG',
      `AudioSpecificConfig: reserved samplingFrequencyIndex ${index}`,
    );
  }
  return { index, rate };
}

export function parseAudioSpecificConfig(buf: Buffer): AacConfig {
  if (buf.length < 2) {
    throw new EstuaryError('ERR_CODEC_CONFIG', `AudioSpecificConfig of ${buf.length} bytes is too short`);
  }
  const r = new BitReader(buf);
  const objectType = readObjectType(r);
  const { index, rate } = readSampleRate(r);
  const channelConfig = r.readBits(4);
  const config: AacConfig = {
    objectType,
    sampleRateIndex: index,
    sampleRate: rate,
    channelConfig,
    channels: aacChannelCount(channelConfig),
  };
  if (objectType === AOT_SBR || objectType === AOT_PS) {
    // Explicit hierarchical signalling: the extension rate, then the core object type.
    const ext = readSampleRate(r);
    const core = readObjectType(r);
    if (core === AOT_ER_BSAC) r.skipBits(4); // extensionChannelConfiguration
    config.sbr = true;
    if (objectType === AOT_PS) config.ps = true;
    config.objectType = core;
    config.extensionSampleRate = ext.rate;
  }
  if (config.objectType === 0) {
    throw new EstuaryError('ERR_CODEC_CONFIG', 'AudioSpecificConfig: audioObjectType 0 is not valid');
  }
  return config;
}

/**
 * Builds a minimal AudioSpecificConfig: object type, rate (index, or 15 + 24 bits when the rate
 * is not in the table), channel configuration, and a GASpecificConfig of three zero bits
 * (frameLengthFlag = 1024 samples, dependsOnCoreCoder = 0, extensionFlag = 0; 4.4.1).
 */
export function buildAudioSpecificConfig(config: {
  objectType: number;
  sampleRate: number;
  channelConfig: number;
}): Buffer {
  const { objectType, sampleRate, channelConfig } = config;
  if (!Number.isInteger(objectType) || objectType < 1 || objectType > 95) {
    throw new EstuaryError('ERR_CODEC_CONFIG', `AAC object type ${objectType} is not 1..95`);
  }
  if (!Number.isInteger(channelConfig) || channelConfig < 0 || channelConfig > 15) {
    throw new EstuaryError('ERR_CODEC_CONFIG', `AAC channel configuration ${channelConfig} is not 0..15`);
  }
  const w = new BitWriter();
  if (objectType >= ESCAPE_OBJECT_TYPE) {
    w.writeBits(ESCAPE_OBJECT_TYPE, 5);
    w.writeBits(objectType - 32, 6);
  } else {
    w.writeBits(objectType, 5);
  }
  const index = AAC_SAMPLE_RATES.indexOf(sampleRate as (typeof AAC_SAMPLE_RATES)[number]);
  if (index >= 0) {
    w.writeBits(index, 4);
  } else {
    if (!Number.isInteger(sampleRate) || sampleRate <= 0 || sampleRate >= 2 ** 24) {
      throw new EstuaryError('ERR_CODEC_CONFIG', `AAC sample rate ${sampleRate} is not a 24-bit value`);
    }
    w.writeBits(EXPLICIT_RATE_INDEX, 4);
    w.writeBits(sampleRate, 24);
  }
  w.writeBits(channelConfig, 4);
  w.writeBits(0, 3);
  return w.toBuffer();
}

/**
 * RFC 6381 3.3 codec string: 'mp4a.40.' + the object type (40 = the MPEG-4 Audio
 * objectTypeIndication of 14496-1 Table 5). HE-AAC reports 5 and HE-AAC v2 29, as players expect.
 */
export function aacCodecString(config: Pick<AacConfig, 'objectType' | 'sbr' | 'ps'>): string {
  const aot = config.ps ? AOT_PS : config.sbr ? AOT_SBR : config.objectType;
  return `mp4a.40.${aot}`;
}
