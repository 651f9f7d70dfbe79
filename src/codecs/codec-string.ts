/**
 * The RFC 6381 codec string of a track as an MP4 sample entry carries it: what MSE's
 * `MediaSource.isTypeSupported` / `addSourceBuffer` and HLS CODECS attributes need.
 */
import type { Track } from '../media/track.js';
import { aacCodecString, parseAudioSpecificConfig } from './aac/audio-specific-config.js';
import { parseAvcConfig } from './h264/avc-config.js';
import { avcCodecString } from './h264/codec-string.js';
import { hevcCodecString } from './h265/codec-string.js';
import { parseHevcConfig } from './h265/hevc-config.js';

const dec2 = (n: number): string => String(n).padStart(2, '0');

/**
 * AV1 (AV1 Codec ISO Media File Format Binding 5, "Codecs Parameter String"):
 * `av01.{seq_profile}.{seq_level_idx_0:02}{tier M|H}.{bit depth:02}`, from the av1C bytes 1-2.
 */
function av1CodecString(av1c: Buffer): string {
  const profile = av1c[1] >> 5;
  const level = av1c[1] & 0x1f;
  const tier = av1c[2] & 0x80 ? 'H' : 'M';
  const highBitdepth = (av1c[2] & 0x40) !== 0;
  const twelveBit = (av1c[2] & 0x20) !== 0;
  const depth = highBitdepth ? (twelveBit ? 12 : 10) : 8;
  return `av01.${profile}.${dec2(level)}${tier}.${dec2(depth)}`;
}

/**
 * VP9 (VP Codec ISO Media File Format Binding, "Codecs Parameter String"):
 * `vp09.{profile:02}.{level:02}.{bit depth:02}` from the VPCodecConfigurationRecord.
 */
function vp9CodecString(vpcc: Buffer): string {
  return `vp09.${dec2(vpcc[0])}.${dec2(vpcc[1])}.${dec2(vpcc[2] >> 4)}`;
}

/** The codec string, or undefined when the track's configuration cannot say it. */
export function codecString(track: Track): string | undefined {
  const config = track.config;
  try {
    switch (track.codec) {
      case 'h264':
        return config && avcCodecString(parseAvcConfig(config));
      case 'h265':
        return config && hevcCodecString(parseHevcConfig(config));
      case 'av1':
        return config && config.length >= 3 ? av1CodecString(config) : undefined;
      case 'vp9':
        return config && config.length >= 3 ? vp9CodecString(config) : undefined;
      case 'aac':
        return config && aacCodecString(parseAudioSpecificConfig(config));
      case 'mp3':
        // mp4a + the esds objectTypeIndication in hex (RFC 6381 3.3; 14496-1 Table 5): 0x6B
        // MPEG-1 audio, 0x69 MPEG-2 (the LSF rates below 32 kHz), as the sample entry says.
        return track.kind === 'audio' && track.sampleRate < 32000 ? 'mp4a.69' : 'mp4a.6B';
      case 'opus':
        // Opus in ISO BMFF (opus-codec.org, "Encapsulation of Opus in ISOBMFF" 4.3.1).
        return 'opus';
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}
