/**
 * Audio access units as MPEG-TS carries them. AAC travels as ADTS (stream_type 0x0F names
 * "ISO/IEC 13818-7 Audio with ADTS transport syntax"), so each raw frame from FLV/MP4 gets the
 * 7-byte ADTS header its AudioSpecificConfig implies. MP3 frames carry their own headers and go
 * through untouched.
 */
import { buildAdtsHeader } from '../../codecs/aac/adts.js';
import { type AacConfig, parseAudioSpecificConfig } from '../../codecs/aac/audio-specific-config.js';
import { EstuaryError } from '../../errors.js';
import type { AudioTrack } from '../../media/track.js';
import { StreamType } from './psi.js';

export type AudioParams =
  | { readonly codec: 'aac'; readonly streamType: number; readonly aac: AacConfig }
  | { readonly codec: 'mp3'; readonly streamType: number };

/**
 * The lowest MPEG-1 Layer III rate (ISO/IEC 11172-3 2.4.2.3): 32, 44.1 and 48 kHz are MPEG-1
 * audio (stream_type 0x03); the half rates of ISO/IEC 13818-3 and MPEG-2.5 below it are 0x04.
 */
const MPEG1_MIN_RATE = 32000;

/** Reads what the converter needs from the track (AudioSpecificConfig for AAC). */
export function audioParamsFor(track: AudioTrack): AudioParams {
  if (track.codec === 'aac') {
    if (!track.config) throw new EstuaryError('ERR_CODEC_CONFIG', 'AAC track has no AudioSpecificConfig');
    const aac = parseAudioSpecificConfig(track.config);
    // Fail at set-up rather than on the first frame when ADTS cannot describe this config.
    buildAdtsHeader(aac, 0);
    return { codec: 'aac', streamType: StreamType.AAC_ADTS, aac };
  }
  if (track.codec === 'mp3') {
    const streamType = track.sampleRate >= MPEG1_MIN_RATE ? StreamType.MPEG1_AUDIO : StreamType.MPEG2_AUDIO;
    return { codec: 'mp3', streamType };
  }
  throw new EstuaryError('ERR_CODEC_UNSUPPORTED', `MPEG-TS audio supports AAC and MP3, not ${track.codec}`);
}

/** One audio frame's elementary stream bytes. */
export function toAudioAccessUnit(data: Buffer, params: AudioParams): Buffer {
  if (params.codec === 'mp3') return data;
  return Buffer.concat([buildAdtsHeader(params.aac, data.length), data]);
}
