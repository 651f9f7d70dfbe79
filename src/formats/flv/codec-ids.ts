/**
 * Numbers of the FLV audio/video tag headers: Adobe FLV spec v10.1 E.4.2.1 (AudioTagHeader),
 * E.4.3.1 (VideoTagHeader), and Enhanced RTMP v1/v2 (veovera) ExAudioTagHeader / ExVideoTagHeader.
 */

/** VideoTagHeader CodecID (E.4.3.1). 2..6 are the legacy codecs passed through untouched. */
export const VideoCodecId = {
  SorensonH263: 2,
  ScreenVideo: 3,
  Vp6: 4,
  Vp6Alpha: 5,
  ScreenVideo2: 6,
  Avc: 7,
} as const;

/** VideoTagHeader FrameType (E.4.3.1); the same values in ExVideoTagHeader (3 bits). */
export const VideoFrameType = {
  Key: 1,
  Inter: 2,
  DisposableInter: 3,
  GeneratedKey: 4,
  /** Video info / command frame: carries no picture. */
  Command: 5,
} as const;

/** AVCPacketType (E.4.3.1). */
export const AvcPacketType = { SequenceHeader: 0, Nalu: 1, EndOfSequence: 2 } as const;

/** Enhanced RTMP: bit 7 of the first video byte marks an ExVideoTagHeader. */
export const EX_VIDEO_HEADER_BIT = 0x80;

/** Enhanced RTMP VideoPacketType (low 4 bits of an ExVideoTagHeader's first byte). */
export const ExVideoPacketType = {
  SequenceStart: 0,
  /** For avc1/hvc1 an SI24 composition time offset precedes the data. */
  CodedFrames: 1,
  SequenceEnd: 2,
  /** Coded frames with an implied composition time offset of 0. */
  CodedFramesX: 3,
  /** AMF-encoded metadata (e.g. HDR colour info), not a picture. */
  Metadata: 4,
  Mpeg2TsSequenceStart: 5,
  Multitrack: 6,
  /** A modifier extension (e.g. a nanosecond timestamp offset) precedes the real packet type. */
  ModEx: 7,
} as const;

/** SoundFormat (E.4.2.1 AudioTagHeader, upper 4 bits). */
export const SoundFormat = {
  Mp3: 2,
  /** Enhanced RTMP reuses the once-reserved 9 to mark an ExAudioTagHeader. */
  ExHeader: 9,
  Aac: 10,
  Mp3At8k: 14,
} as const;

/** AACPacketType (E.4.2.1). */
export const AacPacketType = { SequenceHeader: 0, Raw: 1 } as const;

/** Enhanced RTMP AudioPacketType (low 4 bits when SoundFormat is ExHeader). */
export const ExAudioPacketType = {
  SequenceStart: 0,
  CodedFrames: 1,
  SequenceEnd: 2,
  MultichannelConfig: 4,
  Multitrack: 5,
  ModEx: 7,
} as const;

/** FourCC values used by Enhanced RTMP, as big-endian UI32. */
export const FourCC = {
  avc1: 0x61766331,
  hvc1: 0x68766331,
  av01: 0x61763031,
  vp09: 0x76703039,
  Opus: 0x4f707573,
  mp4a: 0x6d703461,
} as const;

export function fourCCString(value: number): string {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(value >>> 0, 0);
  return /^[\x20-\x7e]{4}$/.test(b.toString('latin1'))
    ? `'${b.toString('latin1')}'`
    : `0x${b.toString('hex')}`;
}
