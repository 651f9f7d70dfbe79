/**
 * RFC 6381 codec strings of a track (`avc1.640028`, `mp4a.40.2`), as HLS CODECS attributes and
 * MSE's `MediaSource.isTypeSupported('video/mp4; codecs="…"')` take them, and the profile and
 * level a person reads (`High`, `4.0`).
 */
import type { AudioTrack, Track, VideoTrack } from '../media/track.js';
import { aacCodecString, parseAudioSpecificConfig } from './aac/audio-specific-config.js';
import { parseAvcConfig } from './h264/avc-config.js';
import { avcCodecString } from './h264/codec-string.js';
import { hevcCodecString, parseHevcConfig } from './h265/hevc-config.js';

export interface CodecDetails {
  /** RFC 6381 codec string, when the configuration record gives one. */
  codecString?: string;
  profile?: string;
  level?: string;
}

/** H.264 profile_idc → name (ITU-T H.264 Annex A.2). */
const AVC_PROFILES: Record<number, string> = {
  44: 'CAVLC 4:4:4 Intra',
  66: 'Baseline',
  77: 'Main',
  88: 'Extended',
  100: 'High',
  110: 'High 10',
  122: 'High 4:2:2',
  244: 'High 4:4:4 Predictive',
};

/** H.265 general_profile_idc → name (ITU-T H.265 Annex A.3). */
const HEVC_PROFILES: Record<number, string> = {
  1: 'Main',
  2: 'Main 10',
  3: 'Main Still Picture',
  4: 'Format Range Extensions',
};

/** AAC audioObjectType → name (ISO/IEC 14496-3 1.5.1.1 Table 1.1). */
const AAC_PROFILES: Record<number, string> = {
  1: 'Main',
  2: 'LC',
  3: 'SSR',
  4: 'LTP',
  5: 'HE-AAC',
  23: 'LD',
  29: 'HE-AACv2',
  39: 'ELD',
};

/** 14496-1 Table 5 objectTypeIndication: MPEG-1 audio (0x6B) or MPEG-2 LSF rates below 32 kHz (0x69). */
const MP3_CODEC_STRING = (sampleRate: number) => (sampleRate >= 32000 ? 'mp4a.6B' : 'mp4a.69');

const dec2 = (n: number) => String(n).padStart(2, '0');

/** What the track's configuration record says; empty when there is none or it cannot be read. */
export function codecDetails(track: Track): CodecDetails {
  try {
    return track.kind === 'video' ? videoDetails(track) : audioDetails(track);
  } catch {
    // A malformed record was already refused at ingest; describing it is best effort.
    return {};
  }
}

/** The track's codec string, or undefined. */
export function trackCodecString(track: Track): string | undefined {
  return codecDetails(track).codecString;
}

function videoDetails(track: VideoTrack): CodecDetails {
  const config = track.config;
  if (!config) return {};
  switch (track.codec) {
    case 'h264': {
      const c = parseAvcConfig(config);
      return {
        codecString: avcCodecString(c),
        profile: avcProfileName(c.profile, c.compatibility),
        level: avcLevel(c.profile, c.compatibility, c.level),
      };
    }
    case 'h265': {
      const c = parseHevcConfig(config);
      return {
        codecString: hevcCodecString(c, 'hvc1'),
        profile: HEVC_PROFILES[c.generalProfileIdc] ?? `profile ${c.generalProfileIdc}`,
        // general_level_idc is 30 × the level number (H.265 A.4.1); tier Main or High.
        level: `${trimLevel(c.generalLevelIdc / 30)}${c.generalTierFlag ? ' High tier' : ''}`,
      };
    }
    case 'av1':
      return av1Details(config);
    case 'vp9':
      return vp9Details(config);
    default:
      return {};
  }
}

function audioDetails(track: AudioTrack): CodecDetails {
  switch (track.codec) {
    case 'aac': {
      if (!track.config) return {};
      const c = parseAudioSpecificConfig(track.config);
      const aot = c.ps ? 29 : c.sbr ? 5 : c.objectType;
      return { codecString: aacCodecString(c), profile: AAC_PROFILES[aot] ?? `object type ${aot}` };
    }
    case 'mp3':
      return { codecString: MP3_CODEC_STRING(track.sampleRate) };
    case 'opus':
      return { codecString: 'opus' };
    default:
      return {};
  }
}

function avcProfileName(profile: number, compatibility: number): string {
  const name = AVC_PROFILES[profile] ?? `profile ${profile}`;
  // constraint_set1_flag on Baseline: Constrained Baseline (A.2.1.1), what WebRTC-era encoders send.
  return profile === 66 && compatibility & 0x40 ? 'Constrained Baseline' : name;
}

function avcLevel(profile: number, compatibility: number, level: number): string {
  // Level 1b: level_idc 9, or 11 with constraint_set3_flag in Baseline/Main/Extended (A.3.1).
  if (level === 9 || (level === 11 && compatibility & 0x10 && [66, 77, 88].includes(profile))) return '1b';
  return trimLevel(level / 10);
}

function trimLevel(n: number): string {
  return Number.isInteger(n) ? `${n}.0` : String(Math.round(n * 10) / 10);
}

/**
 * AV1-ISOBMFF 2.3.3 av1C: marker/version, then seq_profile (3 bits) + seq_level_idx_0 (5), then
 * seq_tier_0, high_bitdepth, twelve_bit; the string is `av01.P.LLT.DD` (AV1-ISOBMFF Annex A).
 */
function av1Details(c: Buffer): CodecDetails {
  if (c.length < 3) return {};
  const profile = c[1]! >> 5;
  const level = c[1]! & 0x1f;
  const tier = c[2]! & 0x80 ? 'H' : 'M';
  const depth = c[2]! & 0x40 ? (c[2]! & 0x20 ? 12 : 10) : 8;
  return {
    codecString: `av01.${profile}.${dec2(level)}${tier}.${dec2(depth)}`,
    profile: ['Main', 'High', 'Professional'][profile] ?? `profile ${profile}`,
    // seq_level_idx → level X.Y with X = 2 + (idx >> 2), Y = idx & 3 (AV1 spec Annex A.3).
    level: `${2 + (level >> 2)}.${level & 3}`,
  };
}

/** VP-ISOBMFF vpcC record: profile, level (×10), bitDepth (4 bits) …; `vp09.PP.LL.DD`. */
function vp9Details(c: Buffer): CodecDetails {
  if (c.length < 3) return {};
  const profile = c[0]!;
  const level = c[1]!;
  const depth = c[2]! >> 4;
  return {
    codecString: `vp09.${dec2(profile)}.${dec2(level)}.${dec2(depth)}`,
    profile: `Profile ${profile}`,
    level: trimLevel(level / 10),
  };
}
