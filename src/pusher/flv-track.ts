/**
 * Makes a demuxed track sendable as FLV. Only MP3 from an MP4 needs help: FLV carries MP3 with
 * the AudioTagHeader byte in front of every frame (E.4.2.1), which an MP4 sample entry does not
 * have, so one is made from the sample entry's rate and channel count.
 */
import { SoundFormat } from '../formats/flv/codec-ids.js';
import type { AudioTrack, Track } from '../media/track.js';

/**
 * SoundRate index (E.4.2.1): 0 = 5.5 kHz, 1 = 11 kHz, 2 = 22 kHz, 3 = 44 kHz. MP3 decoders read
 * the real rate from each frame's own header, so the nearest index at or below is enough.
 */
function soundRateIndex(rate: number): number {
  if (rate >= 44_100) return 3;
  if (rate >= 22_050) return 2;
  if (rate >= 11_025) return 1;
  return 0;
}

/** SoundFormat (4 bits) | SoundRate (2) | SoundSize (1: 16-bit) | SoundType (1: stereo), E.4.2.1. */
export function mp3FlvAudioHeader(sampleRate: number, channels: number): number {
  return (SoundFormat.Mp3 << 4) | (soundRateIndex(sampleRate) << 2) | (1 << 1) | (channels > 1 ? 1 : 0);
}

/** The track itself, or a copy with `flvAudioHeader` for MP3 that lacks it. */
export function flvReadyTrack(track: Track): Track {
  if (track.kind !== 'audio' || track.codec !== 'mp3' || track.flvAudioHeader !== undefined) return track;
  const ready: AudioTrack = { ...track, flvAudioHeader: mp3FlvAudioHeader(track.sampleRate, track.channels) };
  return ready;
}

/** Same codec and configuration: a new sequence header is not needed to switch between them. */
export function sameTrackConfig(a: Track | undefined, b: Track | undefined): boolean {
  if (!a || !b) return a === b;
  if (a === b) return true;
  if (a.kind !== b.kind || a.codec !== b.codec) return false;
  const configEqual = a.config && b.config ? a.config.equals(b.config) : a.config === b.config;
  if (!configEqual) return false;
  if (a.kind === 'audio' && b.kind === 'audio') return a.flvAudioHeader === b.flvAudioHeader;
  if (a.kind === 'video' && b.kind === 'video') return a.legacyCodecId === b.legacyCodecId;
  return true;
}
