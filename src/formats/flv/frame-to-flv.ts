import { EstuaryError } from '../../errors.js';
import type { MediaFrame } from '../../media/frame.js';
import type { AudioTrack, VideoTrack } from '../../media/track.js';
import {
  AacPacketType,
  AvcPacketType,
  EX_VIDEO_HEADER_BIT,
  ExAudioPacketType,
  ExVideoPacketType,
  FourCC,
  SoundFormat,
  VideoCodecId,
  VideoFrameType,
} from './codec-ids.js';
import { writeSI24 } from './ex-header.js';
import { FlvTagType } from './tag.js';

export { metadataBody } from './script-tag.js';

/**
 * AAC tags always say 44 kHz, 16-bit, stereo in the header byte; the real values are in the
 * AudioSpecificConfig (E.4.2.1: "If the SoundFormat indicates AAC, the SoundType should be 1
 * and the SoundRate should be 3").
 */
const AAC_HEADER_BYTE = (SoundFormat.Aac << 4) | 0x0f;
const EX_AUDIO_BYTE = SoundFormat.ExHeader << 4;

const EX_VIDEO_FOURCC = { h265: FourCC.hvc1, av1: FourCC.av01, vp9: FourCC.vp09 } as const;

/** The FLV tag type a frame goes in. */
export function flvTagTypeOf(frame: MediaFrame): number {
  return frame.track.kind === 'video' ? FlvTagType.Video : FlvTagType.Audio;
}

/** Body of the tag announcing a video track's decoder configuration; undefined when it has none. */
export function videoSequenceHeaderBody(track: VideoTrack): Buffer | undefined {
  if (!track.config || track.codec === 'legacy') return undefined;
  if (track.codec === 'h264') {
    // FrameType key | CodecID AVC, AVCPacketType 0, CompositionTime 0 (E.4.3.1).
    const head = Buffer.from([
      (VideoFrameType.Key << 4) | VideoCodecId.Avc,
      AvcPacketType.SequenceHeader,
      0,
      0,
      0,
    ]);
    return Buffer.concat([head, track.config]);
  }
  return Buffer.concat([
    exVideoHeader(VideoFrameType.Key, ExVideoPacketType.SequenceStart, track.codec),
    track.config,
  ]);
}

/** Body of the tag announcing an audio track's configuration (AAC, Opus); undefined otherwise. */
export function audioSequenceHeaderBody(track: AudioTrack): Buffer | undefined {
  if (!track.config) return undefined;
  if (track.codec === 'aac')
    return Buffer.concat([Buffer.from([AAC_HEADER_BYTE, AacPacketType.SequenceHeader]), track.config]);
  if (track.codec === 'opus')
    return Buffer.concat([exAudioHeader(ExAudioPacketType.SequenceStart), track.config]);
  return undefined;
}

/** The tag body for one frame: the classic header for H.264/AAC/MP3/legacy, Enhanced RTMP otherwise. */
export function frameToFlvBody(frame: MediaFrame): Buffer {
  const { track } = frame;
  if (track.kind === 'audio') return audioBody(track, frame.data);
  const frameType = frame.keyframe ? VideoFrameType.Key : VideoFrameType.Inter;
  const cts = frame.pts - frame.dts;
  switch (track.codec) {
    case 'h264': {
      const head = Buffer.alloc(5);
      head[0] = (frameType << 4) | VideoCodecId.Avc;
      head[1] = AvcPacketType.Nalu;
      writeSI24(head, cts, 2);
      return Buffer.concat([head, frame.data]);
    }
    case 'h265': {
      // CodedFramesX saves the 3 bytes when the composition time is zero (Enhanced RTMP).
      if (cts === 0)
        return Buffer.concat([exVideoHeader(frameType, ExVideoPacketType.CodedFramesX, 'h265'), frame.data]);
      const ctsBytes = Buffer.alloc(3);
      writeSI24(ctsBytes, cts, 0);
      return Buffer.concat([
        exVideoHeader(frameType, ExVideoPacketType.CodedFrames, 'h265'),
        ctsBytes,
        frame.data,
      ]);
    }
    case 'av1':
    case 'vp9':
      // av01 / vp09 CodedFrames carry no composition time: these codecs have no reordering in FLV.
      return Buffer.concat([
        exVideoHeader(frameType, ExVideoPacketType.CodedFrames, track.codec),
        frame.data,
      ]);
    case 'legacy': {
      if (track.legacyCodecId === undefined) {
        throw new EstuaryError('ERR_CODEC_UNSUPPORTED', 'legacy video track without its FLV codec id');
      }
      return Buffer.concat([Buffer.from([(frameType << 4) | track.legacyCodecId]), frame.data]);
    }
  }
}

function audioBody(track: AudioTrack, data: Buffer): Buffer {
  switch (track.codec) {
    case 'aac':
      return Buffer.concat([Buffer.from([AAC_HEADER_BYTE, AacPacketType.Raw]), data]);
    case 'opus':
      return Buffer.concat([exAudioHeader(ExAudioPacketType.CodedFrames), data]);
    case 'mp3':
    case 'legacy':
      if (track.flvAudioHeader === undefined) {
        throw new EstuaryError(
          'ERR_CODEC_UNSUPPORTED',
          `${track.codec} audio track without its FLV header byte`,
        );
      }
      return Buffer.concat([Buffer.from([track.flvAudioHeader]), data]);
  }
}

/** IsExHeader | FrameType (3 bits) | PacketType (4 bits), then the FourCC (Enhanced RTMP ExVideoTagHeader). */
function exVideoHeader(frameType: number, packetType: number, codec: keyof typeof EX_VIDEO_FOURCC): Buffer {
  const b = Buffer.allocUnsafe(5);
  b[0] = EX_VIDEO_HEADER_BIT | (frameType << 4) | packetType;
  b.writeUInt32BE(EX_VIDEO_FOURCC[codec], 1);
  return b;
}

/** SoundFormat 9 (ExHeader) | AudioPacketType, then the 'Opus' FourCC (Enhanced RTMP ExAudioTagHeader). */
function exAudioHeader(packetType: number): Buffer {
  const b = Buffer.allocUnsafe(5);
  b[0] = EX_AUDIO_BYTE | packetType;
  b.writeUInt32BE(FourCC.Opus, 1);
  return b;
}
