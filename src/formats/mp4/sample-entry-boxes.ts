/**
 * The SampleDescriptionBox (ISO/IEC 14496-12 8.5.2) and the sample entries Estuary writes:
 * avc1/avcC (14496-15 5.4), hvc1/hvcC (14496-15 8.4), av01/av1C (AV1-ISOBMFF 2.3), vp09/vpcC
 * (VP-ISOBMFF), mp4a/esds (14496-14 5.6, descriptors from 14496-1 7.2.6) and Opus/dOps
 * (Opus-in-ISOBMFF 4.3).
 */
import { EstuaryError } from '../../errors.js';
import type { AudioTrack, Track, VideoTrack } from '../../media/track.js';
import { box, fullBox, u32s } from './box-writer.js';

/** The codecs this muxer writes, named in ERR_CODEC_UNSUPPORTED messages. */
export const MP4_SUPPORTED_CODECS = 'H.264, H.265, AV1, VP9 video and AAC, MP3, Opus audio';

/** 8.5.2 SampleDescriptionBox with a single entry. */
export function stsd(entry: Buffer): Buffer {
  return fullBox('stsd', 0, 0, u32s(1), entry);
}

/** The sample entry (with its configuration box) for a track. */
export function sampleEntry(track: Track): Buffer {
  return track.kind === 'video' ? videoSampleEntry(track) : audioSampleEntry(track);
}

function requireConfig(track: Track): Buffer {
  if (!track.config || track.config.length === 0) {
    throw new EstuaryError('ERR_CODEC_CONFIG', `${track.codec} track has no decoder configuration record`);
  }
  return track.config;
}

function videoSampleEntry(track: VideoTrack): Buffer {
  switch (track.codec) {
    case 'h264':
      return visualSampleEntry('avc1', track, box('avcC', requireConfig(track)));
    case 'h265':
      // hvc1: parameter sets only in hvcC (14496-15 8.4.1), which is what FLV/RTMP ingest gives us.
      return visualSampleEntry('hvc1', track, box('hvcC', requireConfig(track)));
    case 'av1':
      return visualSampleEntry('av01', track, box('av1C', requireConfig(track)));
    case 'vp9':
      // vpcC is a FullBox version 1 around the VPCodecConfigurationRecord.
      return visualSampleEntry('vp09', track, fullBox('vpcC', 1, 0, requireConfig(track)));
    default:
      throw new EstuaryError(
        'ERR_CODEC_UNSUPPORTED',
        `MP4 cannot carry video codec '${track.codec}'; supported: ${MP4_SUPPORTED_CODECS}`,
      );
  }
}

/** 12.1.3 VisualSampleEntry: 78 bytes of fixed fields, then the codec configuration box. */
export function visualSampleEntry(type: string, track: VideoTrack, config: Buffer): Buffer {
  const f = Buffer.alloc(78);
  f.writeUInt16BE(1, 6); // data_reference_index: the one dref entry
  f.writeUInt16BE(track.width & 0xffff, 24);
  f.writeUInt16BE(track.height & 0xffff, 26);
  f.writeUInt32BE(0x00480000, 28); // horizresolution 72 dpi (16.16)
  f.writeUInt32BE(0x00480000, 32); // vertresolution 72 dpi
  f.writeUInt16BE(1, 40); // frame_count: one frame per sample
  // compressorname: 32 bytes, left empty
  f.writeUInt16BE(0x0018, 74); // depth: colour, no alpha
  f.writeInt16BE(-1, 76); // pre_defined = -1
  return box(type, f, config);
}

/** 12.2.3 AudioSampleEntry (version 0): 28 bytes of fixed fields, then the configuration box. */
export function audioSampleEntryBox(
  type: string,
  channels: number,
  sampleRate: number,
  config: Buffer,
): Buffer {
  const f = Buffer.alloc(28);
  f.writeUInt16BE(1, 6); // data_reference_index
  f.writeUInt16BE(channels & 0xffff, 16);
  f.writeUInt16BE(16, 18); // samplesize: 16 bits
  // samplerate is 16.16; rates above 65535 Hz do not fit, and the codec config is authoritative anyway.
  f.writeUInt32BE(sampleRate <= 0xffff ? sampleRate * 65536 : 0, 24);
  return box(type, f, config);
}

function audioSampleEntry(track: AudioTrack): Buffer {
  switch (track.codec) {
    case 'aac':
      return audioSampleEntryBox(
        'mp4a',
        track.channels,
        track.sampleRate,
        esds(OBJECT_TYPE_AAC, requireConfig(track)),
      );
    case 'mp3':
      // FFmpeg's choice: MPEG-2 LSF rates (< 32 kHz) are 0x69, MPEG-1 is 0x6B (14496-1 Table 5).
      return audioSampleEntryBox(
        'mp4a',
        track.channels,
        track.sampleRate,
        esds(track.sampleRate >= 32000 ? OBJECT_TYPE_MP3 : OBJECT_TYPE_MPEG2_AUDIO),
      );
    case 'opus':
      return audioSampleEntryBox('Opus', track.channels, 48000, dOps(requireConfig(track)));
    default:
      throw new EstuaryError(
        'ERR_CODEC_UNSUPPORTED',
        `MP4 cannot carry audio codec '${track.codec}'; supported: ${MP4_SUPPORTED_CODECS}`,
      );
  }
}

/** objectTypeIndication values, ISO/IEC 14496-1 Table 5. */
export const OBJECT_TYPE_AAC = 0x40;
export const OBJECT_TYPE_MPEG2_AUDIO = 0x69;
export const OBJECT_TYPE_MP3 = 0x6b;

/** A descriptor (14496-1 8.3.3): tag, expandable size (7 bits per byte, high bit = more), payload. */
function descriptor(tag: number, ...payload: Buffer[]): Buffer {
  const len = payload.reduce((n, p) => n + p.length, 0);
  const sizeBytes: number[] = [len & 0x7f];
  for (let rest = len >>> 7; rest > 0; rest >>>= 7) sizeBytes.unshift((rest & 0x7f) | 0x80);
  return Buffer.concat([Buffer.from([tag, ...sizeBytes]), ...payload]);
}

/**
 * 14496-14 5.6 ESDBox holding an ES_Descriptor (14496-1 7.2.6.5, tag 3) with a
 * DecoderConfigDescriptor (7.2.6.6, tag 4), the DecSpecificInfo (tag 5, e.g. the
 * AudioSpecificConfig) when given, and the SLConfigDescriptor (tag 6, predefined 2 = MP4).
 */
export function esds(objectType: number, decSpecificInfo?: Buffer): Buffer {
  const dcd = Buffer.alloc(13);
  dcd[0] = objectType;
  dcd[1] = (0x05 << 2) | 1; // streamType 5 (audio), upStream 0, reserved 1
  // bufferSizeDB(24), maxBitrate(32), avgBitrate(32): 0 = unknown
  const dsi = decSpecificInfo ? [descriptor(0x05, decSpecificInfo)] : [];
  const es = descriptor(
    0x03,
    Buffer.from([0, 0, 0]), // ES_ID 0 (14496-14 3.1.2), no dependsOn/URL/OCR flags
    descriptor(0x04, dcd, ...dsi),
    descriptor(0x06, Buffer.from([0x02])),
  );
  return fullBox('esds', 0, 0, es);
}

/**
 * Opus-in-ISOBMFF 4.3.2 OpusSpecificBox from an OpusHead (RFC 7845 5.1): the same fields, but
 * big-endian, version 0, and without the 'OpusHead' magic.
 */
export function dOps(opusHead: Buffer): Buffer {
  if (opusHead.length < 19 || opusHead.toString('latin1', 0, 8) !== 'OpusHead') {
    throw new EstuaryError('ERR_CODEC_CONFIG', 'Opus config is not an OpusHead (RFC 7845 5.1)');
  }
  const family = opusHead[18];
  const channels = opusHead[9];
  const mappingLen = family === 0 ? 0 : 2 + channels;
  if (opusHead.length < 19 + mappingLen) throw new EstuaryError('ERR_CODEC_CONFIG', 'OpusHead truncated');
  const out = Buffer.alloc(11 + mappingLen);
  out[0] = 0; // Version
  out[1] = channels; // OutputChannelCount
  out.writeUInt16BE(opusHead.readUInt16LE(10), 2); // PreSkip
  out.writeUInt32BE(opusHead.readUInt32LE(12), 4); // InputSampleRate
  out.writeInt16BE(opusHead.readInt16LE(16), 8); // OutputGain
  out[10] = family;
  opusHead.copy(out, 11, 19, 19 + mappingLen); // StreamCount, CoupledCount, ChannelMapping
  return box('dOps', out);
}
