/**
 * Tracks describe what a stream carries. They are immutable: a new codec sequence header
 * makes a new Track object, and outputs notice the change by identity (`frame.track !== last`).
 *
 * The model carries what FLV/RTMP/MP4 carry natively (decoder configuration records, raw
 * access units) so that only the MPEG-TS muxer has to convert (AVCC → Annex B, raw AAC → ADTS).
 */

/** Video codecs Estuary understands. `legacy` is any other FLV video codec, passed through untouched. */
export type VideoCodec = 'h264' | 'h265' | 'av1' | 'vp9' | 'legacy';
/** Audio codecs Estuary understands. `legacy` is any other FLV audio codec, passed through untouched. */
export type AudioCodec = 'aac' | 'mp3' | 'opus' | 'legacy';

export interface VideoTrack {
  readonly kind: 'video';
  readonly codec: VideoCodec;
  /**
   * Decoder configuration record as carried in FLV/MP4: AVCDecoderConfigurationRecord (avcC)
   * for H.264, HEVCDecoderConfigurationRecord (hvcC) for H.265, AV1CodecConfigurationRecord
   * (av1C) for AV1, VPCodecConfigurationRecord (vpcC) for VP9. Absent for legacy codecs.
   */
  readonly config?: Buffer;
  /** Coded picture size in pixels, when the configuration record says it (0 when unknown). */
  readonly width: number;
  readonly height: number;
  /** For `legacy` only: the FLV VideoTagHeader CodecID (E.4.3.1) the frames were sent with. */
  readonly legacyCodecId?: number;
}

export interface AudioTrack {
  readonly kind: 'audio';
  readonly codec: AudioCodec;
  /** AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1) for AAC; OpusHead for Opus; absent otherwise. */
  readonly config?: Buffer;
  readonly sampleRate: number;
  readonly channels: number;
  /**
   * For `legacy` and `mp3`: the first byte of the FLV AudioTagHeader (E.4.2.1: format, rate,
   * size, type) so the audio is passed through exactly as it came.
   */
  readonly flvAudioHeader?: number;
}

export type Track = VideoTrack | AudioTrack;

export function describeTrack(track: Track): string {
  if (track.kind === 'video') {
    const size = track.width > 0 ? ` ${track.width}x${track.height}` : '';
    return `video ${track.codec}${size}`;
  }
  return `audio ${track.codec} ${track.sampleRate} Hz ${track.channels} ch`;
}
