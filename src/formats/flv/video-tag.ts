import { EstuaryError } from '../../errors.js';
import type { VideoCodec } from '../../media/track.js';
import {
  AvcPacketType,
  EX_VIDEO_HEADER_BIT,
  ExVideoPacketType,
  FourCC,
  fourCCString,
  VideoCodecId,
  VideoFrameType,
} from './codec-ids.js';
import { readSI24, skipModEx } from './ex-header.js';

/** What one video tag body holds, with the FLV framing taken off. Buffers are subarrays of the body. */
export type VideoTagContent =
  | { kind: 'config'; codec: Exclude<VideoCodec, 'legacy'>; config: Buffer }
  | { kind: 'frame'; codec: Exclude<VideoCodec, 'legacy'>; keyframe: boolean; cts: number; data: Buffer }
  | { kind: 'legacy'; codecId: number; keyframe: boolean; data: Buffer }
  /** End of sequence, command frames, HDR metadata: nothing to forward. */
  | { kind: 'none' };

const SUPPORTED =
  'supported: H.264 (7), H.265/AV1/VP9 via Enhanced RTMP (hvc1, av01, vp09), legacy codecs 2–6 passed through';

const EX_CODECS = new Map<number, Exclude<VideoCodec, 'legacy'>>([
  [FourCC.avc1, 'h264'],
  [FourCC.hvc1, 'h265'],
  [FourCC.av01, 'av1'],
  [FourCC.vp09, 'vp9'],
]);

function formatError(msg: string): EstuaryError {
  return new EstuaryError('ERR_FLV_FORMAT', msg);
}

/** Parses a VideoTagHeader (E.4.3.1) or an Enhanced RTMP ExVideoTagHeader and returns the payload. */
export function parseVideoTag(body: Buffer): VideoTagContent {
  if (body.length < 1) throw formatError('empty video tag');
  const b0 = body[0];
  if (b0 & EX_VIDEO_HEADER_BIT) return parseExVideo(body);
  const frameType = b0 >> 4;
  const codecId = b0 & 0x0f;
  if (frameType === VideoFrameType.Command) return { kind: 'none' };
  const keyframe = frameType === VideoFrameType.Key;
  if (codecId === VideoCodecId.Avc) {
    // AVCPacketType UI8 + CompositionTime SI24 (E.4.3.1 VideoTagHeader).
    if (body.length < 5)
      throw formatError(`AVC video tag of ${body.length} bytes is shorter than its 5-byte header`);
    const packetType = body[1];
    const data = body.subarray(5);
    if (packetType === AvcPacketType.SequenceHeader) return { kind: 'config', codec: 'h264', config: data };
    if (packetType === AvcPacketType.Nalu) {
      return { kind: 'frame', codec: 'h264', keyframe, cts: readSI24(body, 2), data };
    }
    if (packetType === AvcPacketType.EndOfSequence) return { kind: 'none' };
    throw formatError(`AVCPacketType ${packetType} is not 0, 1 or 2`);
  }
  if (codecId >= VideoCodecId.SorensonH263 && codecId <= VideoCodecId.ScreenVideo2) {
    return { kind: 'legacy', codecId, keyframe, data: body.subarray(1) };
  }
  throw new EstuaryError('ERR_CODEC_UNSUPPORTED', `video codec id ${codecId} is not supported; ${SUPPORTED}`);
}

function parseExVideo(body: Buffer): VideoTagContent {
  const frameType = (body[0] >> 4) & 0x07;
  const { packetType, offset } = skipModEx(body, body[0] & 0x0f, 1);
  if (packetType === ExVideoPacketType.Multitrack) {
    throw new EstuaryError('ERR_CODEC_UNSUPPORTED', 'Enhanced RTMP multitrack video is not supported');
  }
  if (offset + 4 > body.length) throw formatError('Enhanced RTMP video tag is shorter than its FourCC');
  const fourcc = body.readUInt32BE(offset);
  const codec = EX_CODECS.get(fourcc);
  if (!codec) {
    throw new EstuaryError(
      'ERR_CODEC_UNSUPPORTED',
      `video FourCC ${fourCCString(fourcc)} is not supported; ${SUPPORTED}`,
    );
  }
  let off = offset + 4;
  // A command frame carries a VideoCommand byte, not a picture (Enhanced RTMP ExVideoTagBody).
  if (frameType === VideoFrameType.Command && packetType !== ExVideoPacketType.Metadata)
    return { kind: 'none' };
  const keyframe = frameType === VideoFrameType.Key;
  switch (packetType) {
    case ExVideoPacketType.SequenceStart:
      return { kind: 'config', codec, config: body.subarray(off) };
    case ExVideoPacketType.CodedFrames: {
      let cts = 0;
      // Only avc1 and hvc1 carry an SI24 composition time here; av01 and vp09 have none.
      if (codec === 'h264' || codec === 'h265') {
        if (off + 3 > body.length)
          throw formatError('Enhanced RTMP CodedFrames is missing its composition time');
        cts = readSI24(body, off);
        off += 3;
      }
      return { kind: 'frame', codec, keyframe, cts, data: body.subarray(off) };
    }
    case ExVideoPacketType.CodedFramesX:
      return { kind: 'frame', codec, keyframe, cts: 0, data: body.subarray(off) };
    case ExVideoPacketType.SequenceEnd:
    case ExVideoPacketType.Metadata:
      return { kind: 'none' };
    default:
      throw new EstuaryError(
        'ERR_CODEC_UNSUPPORTED',
        `Enhanced RTMP video packet type ${packetType} is not supported`,
      );
  }
}
