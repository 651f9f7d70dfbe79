import type { Track } from './track.js';

/**
 * One access unit: the vocabulary between every demuxer and every muxer.
 *
 * Times are integer milliseconds on a monotonic clock that starts near 0 at publish time (the
 * 32-bit FLV/RTMP wrap is undone at ingest, see `TimestampUnwrapper`).
 */
export interface MediaFrame {
  readonly track: Track;
  /** Decode time, ms. */
  readonly dts: number;
  /** Presentation time, ms (pts >= dts; differs from dts with B-frames). */
  readonly pts: number;
  /** A random access point: an IDR / IRAP picture for video; every audio frame is one. */
  readonly keyframe: boolean;
  /**
   * The payload as MP4 stores it: length-prefixed NAL units (AVCC/HVCC, the length size given by
   * the track's configuration record) for H.264/H.265, OBUs for AV1, a raw access unit for audio
   * (no ADTS), and for legacy codecs the FLV tag body after its codec header bytes.
   */
  readonly data: Buffer;
  /**
   * Where `data`'s bytes lie in the input file, when a file reader knows (an FLV sizes-only pass,
   * pusher/file-source.ts): fast-start MP4's second pass then copies them from the file instead
   * of demuxing it again (convert/frame-ranges.ts). Absent everywhere else.
   */
  readonly fileOffset?: number;
}
