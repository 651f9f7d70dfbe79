/**
 * Whether an FLV audio or video tag body carries coded frames (rather than a sequence header, an
 * end-of-sequence marker or another Enhanced RTMP packet), read off its first two bytes:
 * AVCPacketType 1 (E.4.3.1), AACPacketType 1 (E.4.2.1), the Enhanced RTMP CodedFrames /
 * CodedFramesX packet types, and the legacy codecs whose every body is a frame. A body with the
 * ModEx extension or an unknown codec is not one: its parser must see it whole.
 */
import {
  AacPacketType,
  AvcPacketType,
  EX_VIDEO_HEADER_BIT,
  ExAudioPacketType,
  ExVideoPacketType,
  SoundFormat,
  VideoCodecId,
} from './codec-ids.js';
import { FlvTagType } from './tag.js';

export function isCodedFrameBody(type: number, b0: number, b1: number): boolean {
  if (type === FlvTagType.Video) {
    if ((b0 & EX_VIDEO_HEADER_BIT) !== 0) {
      const packetType = b0 & 0x0f;
      return packetType === ExVideoPacketType.CodedFrames || packetType === ExVideoPacketType.CodedFramesX;
    }
    const codecId = b0 & 0x0f;
    if (codecId === VideoCodecId.Avc) return b1 === AvcPacketType.Nalu;
    return codecId >= VideoCodecId.SorensonH263 && codecId <= VideoCodecId.ScreenVideo2;
  }
  if (type === FlvTagType.Audio) {
    const format = b0 >> 4;
    if (format === SoundFormat.Aac) return b1 === AacPacketType.Raw;
    if (format === SoundFormat.ExHeader) return (b0 & 0x0f) === ExAudioPacketType.CodedFrames;
    // MP3 and the legacy formats: one header byte, then the frame (unsupported ones fail on it alike).
    return true;
  }
  return false;
}
