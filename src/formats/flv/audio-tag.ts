import { EstuaryError } from '../../errors.js';
import { AacPacketType, ExAudioPacketType, FourCC, fourCCString, SoundFormat } from './codec-ids.js';
import { skipModEx } from './ex-header.js';

/** What one audio tag body holds, with the FLV framing taken off. Buffers are subarrays of the body. */
export type AudioTagContent =
  | { kind: 'config'; codec: 'aac' | 'opus'; config: Buffer }
  | { kind: 'frame'; codec: 'aac' | 'opus'; data: Buffer }
  /** MP3 and the other legacy formats: the header byte describes the track, the rest is data. */
  | { kind: 'legacy'; codec: 'mp3' | 'legacy'; header: number; data: Buffer }
  | { kind: 'none' };

const SUPPORTED =
  'supported: AAC (10), MP3 (2, 14), Opus and AAC via Enhanced RTMP, legacy formats 0–8, 11 and 15 passed through';

/** SoundFormat values E.4.2.1 lists that are passed through untouched (12 and 13 are reserved). */
const LEGACY_FORMATS = new Set([0, 1, 3, 4, 5, 6, 7, 8, 11, 15]);

/** Parses an AudioTagHeader (E.4.2.1) or an Enhanced RTMP ExAudioTagHeader. */
export function parseAudioTag(body: Buffer): AudioTagContent {
  if (body.length < 1) throw new EstuaryError('ERR_FLV_FORMAT', 'empty audio tag');
  const format = body[0] >> 4;
  if (format === SoundFormat.Aac) {
    if (body.length < 2)
      throw new EstuaryError('ERR_FLV_FORMAT', 'AAC audio tag is missing its AACPacketType');
    const data = body.subarray(2);
    if (body[1] === AacPacketType.SequenceHeader) return { kind: 'config', codec: 'aac', config: data };
    if (body[1] === AacPacketType.Raw) return { kind: 'frame', codec: 'aac', data };
    throw new EstuaryError('ERR_FLV_FORMAT', `AACPacketType ${body[1]} is not 0 or 1`);
  }
  if (format === SoundFormat.ExHeader) return parseExAudio(body);
  if (format === SoundFormat.Mp3 || format === SoundFormat.Mp3At8k) {
    return { kind: 'legacy', codec: 'mp3', header: body[0], data: body.subarray(1) };
  }
  if (LEGACY_FORMATS.has(format))
    return { kind: 'legacy', codec: 'legacy', header: body[0], data: body.subarray(1) };
  throw new EstuaryError(
    'ERR_CODEC_UNSUPPORTED',
    `audio SoundFormat ${format} is not supported; ${SUPPORTED}`,
  );
}

function parseExAudio(body: Buffer): AudioTagContent {
  const { packetType, offset } = skipModEx(body, body[0] & 0x0f, 1);
  if (packetType === ExAudioPacketType.Multitrack) {
    throw new EstuaryError('ERR_CODEC_UNSUPPORTED', 'Enhanced RTMP multitrack audio is not supported');
  }
  if (offset + 4 > body.length) {
    throw new EstuaryError('ERR_FLV_FORMAT', 'Enhanced RTMP audio tag is shorter than its FourCC');
  }
  const fourcc = body.readUInt32BE(offset);
  const codec = fourcc === FourCC.Opus ? 'opus' : fourcc === FourCC.mp4a ? 'aac' : undefined;
  if (!codec) {
    throw new EstuaryError(
      'ERR_CODEC_UNSUPPORTED',
      `audio FourCC ${fourCCString(fourcc)} is not supported; ${SUPPORTED}`,
    );
  }
  const data = body.subarray(offset + 4);
  switch (packetType) {
    case ExAudioPacketType.SequenceStart:
      return { kind: 'config', codec, config: data };
    case ExAudioPacketType.CodedFrames:
      return { kind: 'frame', codec, data };
    case ExAudioPacketType.SequenceEnd:
    case ExAudioPacketType.MultichannelConfig:
      // The channel layout is informative here; channel counts come from the codec configuration.
      return { kind: 'none' };
    default:
      throw new EstuaryError(
        'ERR_CODEC_UNSUPPORTED',
        `Enhanced RTMP audio packet type ${packetType} is not supported`,
      );
  }
}
