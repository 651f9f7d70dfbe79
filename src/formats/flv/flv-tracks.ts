import { parseAudioSpecificConfig } from '../../codecs/aac/audio-specific-config.js';
import { parseAvcConfig } from '../../codecs/h264/avc-config.js';
import { parseH264Sps } from '../../codecs/h264/sps.js';
import { parseHevcConfig } from '../../codecs/h265/hevc-config.js';
import { EstuaryError } from '../../errors.js';
import type { AudioTrack, VideoCodec, VideoTrack } from '../../media/track.js';
import { SoundFormat } from './codec-ids.js';

/** Builds the video track a sequence header describes, with the picture size where we can parse it. */
export function videoTrackFromConfig(codec: Exclude<VideoCodec, 'legacy'>, config: Buffer): VideoTrack {
  let width = 0;
  let height = 0;
  if (codec === 'h264') {
    const avc = parseAvcConfig(config);
    if (avc.sps.length > 0) ({ width, height } = parseH264Sps(avc.sps[0]));
  } else if (codec === 'h265') {
    ({ width, height } = parseHevcConfig(config));
  }
  // AV1 and VP9 sizes live in the sequence header OBU / the bitstream, not in av1C / vpcC.
  return { kind: 'video', codec, config, width, height };
}

export function legacyVideoTrack(codecId: number): VideoTrack {
  return { kind: 'video', codec: 'legacy', width: 0, height: 0, legacyCodecId: codecId };
}

/** Opus always decodes at 48 kHz (RFC 7845 5.1: the input rate in OpusHead is informative only). */
const OPUS_RATE = 48000;
/** OpusHead: "OpusHead", version, channel count, pre-skip, rate, gain, mapping family (RFC 7845 5.1). */
const OPUS_HEAD_MIN = 19;

export function audioTrackFromConfig(codec: 'aac' | 'opus', config: Buffer): AudioTrack {
  if (codec === 'opus') {
    if (config.length < OPUS_HEAD_MIN || config.toString('latin1', 0, 8) !== 'OpusHead') {
      throw new EstuaryError('ERR_CODEC_CONFIG', 'Opus sequence start is not an OpusHead (RFC 7845 5.1)');
    }
    return { kind: 'audio', codec, config, sampleRate: OPUS_RATE, channels: config[9] };
  }
  const asc = parseAudioSpecificConfig(config);
  // Report what a decoder outputs: HE-AAC doubles the core rate, PS makes mono core stereo.
  const channels = asc.ps ? 2 : asc.channels;
  return { kind: 'audio', codec, config, sampleRate: asc.extensionSampleRate ?? asc.sampleRate, channels };
}

/** SoundRate (E.4.2.1): 0 = 5.5 kHz, 1 = 11 kHz, 2 = 22 kHz, 3 = 44 kHz. */
const SOUND_RATES = [5512, 11025, 22050, 44100];
/** Formats whose rate/channels the spec fixes whatever the flags say (E.4.2.1 notes). */
const FIXED_FORMAT_RATES = new Map<number, { rate: number; channels?: number }>([
  [4, { rate: 16000, channels: 1 }], // Nellymoser 16 kHz mono
  [5, { rate: 8000, channels: 1 }], // Nellymoser 8 kHz mono
  [7, { rate: 8000 }], // G.711 A-law
  [8, { rate: 8000 }], // G.711 mu-law
  [11, { rate: 16000, channels: 1 }], // Speex: 16 kHz mono
  [SoundFormat.Mp3At8k, { rate: 8000 }],
]);

/** A track for MP3 or a legacy format, described by the AudioTagHeader byte (kept for pass-through). */
export function audioTrackFromHeader(codec: 'mp3' | 'legacy', header: number): AudioTrack {
  const format = header >> 4;
  const fixed = FIXED_FORMAT_RATES.get(format);
  const sampleRate = fixed?.rate ?? SOUND_RATES[(header >> 2) & 0x03];
  const channels = fixed?.channels ?? ((header & 0x01) === 1 ? 2 : 1);
  return { kind: 'audio', codec, sampleRate, channels, flvAudioHeader: header };
}
