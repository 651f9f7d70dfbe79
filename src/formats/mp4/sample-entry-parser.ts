/**
 * Reads the first sample entry of an 'stsd' (ISO/IEC 14496-12 8.5.2) into a Track: avc1/avc3
 * (avcC), hvc1/hev1 (hvcC), av01 (av1C), vp09 (vpcC), mp4a (esds: AAC or MP3), .mp3, Opus (dOps).
 */
import { parseAudioSpecificConfig } from '../../codecs/aac/audio-specific-config.js';
import { EstuaryError } from '../../errors.js';
import type { AudioTrack, Track, VideoTrack } from '../../media/track.js';
import { BoxCursor, type BoxHeader, childBoxes, mp4Error } from './box-reader.js';
import {
  MP4_SUPPORTED_CODECS,
  OBJECT_TYPE_AAC,
  OBJECT_TYPE_MP3,
  OBJECT_TYPE_MPEG2_AUDIO,
} from './sample-entry-boxes.js';

/** MPEG-2 AAC profiles (Main, LC, SSR) as objectTypeIndication (14496-1 Table 5). */
const OBJECT_TYPES_MPEG2_AAC = [0x66, 0x67, 0x68];

/** Fixed fields before the child boxes: VisualSampleEntry 78 bytes, AudioSampleEntry 28 (12.1.3, 12.2.3). */
const VISUAL_FIELDS = 78;
const AUDIO_FIELDS = 28;

function unsupported(kind: string, what: string): EstuaryError {
  return new EstuaryError(
    'ERR_CODEC_UNSUPPORTED',
    `MP4 ${kind} codec '${what}' is not supported; supported: ${MP4_SUPPORTED_CODECS}`,
  );
}

function child(buf: Buffer, start: number, end: number, type: string): BoxHeader | undefined {
  return childBoxes(buf, start, end).find((c) => c.type === type);
}

function payload(buf: Buffer, h: BoxHeader): Buffer {
  return buf.subarray(h.start + h.headerSize, h.start + h.size);
}

/** The entry inside stsd (the stsd header is `stsd`). */
export function parseSampleEntry(buf: Buffer, stsd: BoxHeader, handler: 'vide' | 'soun'): Track {
  const c = BoxCursor.of(buf, stsd);
  c.versionFlags();
  if (c.u32() < 1) throw mp4Error('stsd has no sample entry');
  const entries = childBoxes(buf, c.pos, c.end);
  if (entries.length === 0) throw mp4Error('stsd has no sample entry');
  return handler === 'vide' ? parseVisual(buf, entries[0]) : parseAudio(buf, entries[0]);
}

function parseVisual(buf: Buffer, e: BoxHeader): VideoTrack {
  const start = e.start + e.headerSize;
  const end = e.start + e.size;
  if (end - start < VISUAL_FIELDS) throw mp4Error(`'${e.type}' sample entry truncated`);
  const width = buf.readUInt16BE(start + 24);
  const height = buf.readUInt16BE(start + 26);
  const kids = start + VISUAL_FIELDS;
  const withConfig = (codec: VideoTrack['codec'], boxType: string, skip = 0): VideoTrack => {
    const h = child(buf, kids, end, boxType);
    if (!h) throw new EstuaryError('ERR_CODEC_CONFIG', `'${e.type}' sample entry has no ${boxType}`);
    const config = payload(buf, h).subarray(skip);
    return { kind: 'video', codec, config: Buffer.from(config), width, height };
  };
  switch (e.type) {
    case 'avc1':
    case 'avc3':
      return withConfig('h264', 'avcC');
    case 'hvc1':
    case 'hev1':
      return withConfig('h265', 'hvcC');
    case 'av01':
      return withConfig('av1', 'av1C');
    case 'vp09':
      return withConfig('vp9', 'vpcC', 4); // vpcC is a FullBox: drop version/flags
    default:
      throw unsupported('video', e.type);
  }
}

function parseAudio(buf: Buffer, e: BoxHeader): AudioTrack {
  const c = BoxCursor.of(buf, e);
  c.skip(8); // reserved(6), data_reference_index(2)
  // QuickTime sound descriptions reuse the first reserved field as a version: 1 adds 16 bytes, 2 adds 36.
  const qtVersion = c.u16();
  c.skip(6);
  const entryChannels = c.u16();
  c.skip(6);
  const entryRate = c.u32() >>> 16; // 16.16
  const kids = e.start + e.headerSize + AUDIO_FIELDS + (qtVersion === 1 ? 16 : qtVersion === 2 ? 36 : 0);
  const end = e.start + e.size;
  if (kids > end) throw mp4Error(`'${e.type}' sample entry truncated`);
  switch (e.type) {
    case 'mp4a': {
      const h = child(buf, kids, end, 'esds') ?? findInWave(buf, kids, end);
      if (!h) throw new EstuaryError('ERR_CODEC_CONFIG', 'mp4a sample entry has no esds');
      const { objectType, decSpecificInfo } = parseEsds(buf, h);
      if (objectType === OBJECT_TYPE_AAC || OBJECT_TYPES_MPEG2_AAC.includes(objectType)) {
        if (!decSpecificInfo)
          throw new EstuaryError('ERR_CODEC_CONFIG', 'AAC esds has no AudioSpecificConfig');
        const asc = parseAudioSpecificConfig(decSpecificInfo);
        const channels = asc.channels || entryChannels;
        return {
          kind: 'audio',
          codec: 'aac',
          config: Buffer.from(decSpecificInfo),
          sampleRate: asc.sampleRate,
          channels,
        };
      }
      if (objectType === OBJECT_TYPE_MP3 || objectType === OBJECT_TYPE_MPEG2_AUDIO) {
        return { kind: 'audio', codec: 'mp3', sampleRate: entryRate, channels: entryChannels };
      }
      throw unsupported('audio', `mp4a objectTypeIndication 0x${objectType.toString(16)}`);
    }
    case '.mp3':
      return { kind: 'audio', codec: 'mp3', sampleRate: entryRate, channels: entryChannels };
    case 'Opus': {
      const h = child(buf, kids, end, 'dOps');
      if (!h) throw new EstuaryError('ERR_CODEC_CONFIG', 'Opus sample entry has no dOps');
      const head = opusHeadFromDops(payload(buf, h));
      return { kind: 'audio', codec: 'opus', config: head, sampleRate: 48000, channels: head[9] };
    }
    default:
      throw unsupported('audio', e.type);
  }
}

/** QuickTime files put esds inside a 'wave' box. */
function findInWave(buf: Buffer, start: number, end: number): BoxHeader | undefined {
  const wave = child(buf, start, end, 'wave');
  return wave ? child(buf, wave.start + wave.headerSize, wave.start + wave.size, 'esds') : undefined;
}

/** Reads a descriptor tag and its expandable size (14496-1 8.3.3: up to 4 bytes of 7 bits). */
function descriptorHeader(c: BoxCursor): { tag: number; size: number } {
  const tag = c.u8();
  let size = 0;
  for (let i = 0; i < 4; i++) {
    const b = c.u8();
    size = size * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) break;
  }
  c.need(size);
  return { tag, size };
}

/** esds → objectTypeIndication and DecSpecificInfo (14496-1 7.2.6.5, 7.2.6.6, 7.2.6.7). */
export function parseEsds(buf: Buffer, h: BoxHeader): { objectType: number; decSpecificInfo?: Buffer } {
  const c = BoxCursor.of(buf, h);
  c.versionFlags();
  const es = descriptorHeader(c);
  if (es.tag !== 0x03) throw mp4Error(`esds: expected ES_Descriptor (tag 3), got tag ${es.tag}`);
  c.skip(2); // ES_ID
  const flags = c.u8();
  if (flags & 0x80) c.skip(2); // streamDependenceFlag: dependsOn_ES_ID
  if (flags & 0x40) c.skip(c.u8()); // URL_Flag: URLlength, URLstring
  if (flags & 0x20) c.skip(2); // OCRstreamFlag: OCR_ES_Id
  const dcd = descriptorHeader(c);
  if (dcd.tag !== 0x04) throw mp4Error(`esds: expected DecoderConfigDescriptor (tag 4), got ${dcd.tag}`);
  const dcdEnd = c.pos + dcd.size;
  const objectType = c.u8();
  c.skip(12); // streamType/upStream/reserved, bufferSizeDB, maxBitrate, avgBitrate
  if (c.pos + 2 <= dcdEnd) {
    const dsi = descriptorHeader(c);
    if (dsi.tag === 0x05) return { objectType, decSpecificInfo: c.bytes(dsi.size) };
  }
  return { objectType };
}

/** dOps (Opus-in-ISOBMFF 4.3.2, big-endian) → OpusHead (RFC 7845 5.1, little-endian), the model's config. */
export function opusHeadFromDops(d: Buffer): Buffer {
  if (d.length < 11 || d[0] !== 0)
    throw new EstuaryError('ERR_CODEC_CONFIG', 'dOps truncated or not version 0');
  const family = d[10];
  const mappingLen = family === 0 ? 0 : 2 + d[1];
  if (d.length < 11 + mappingLen)
    throw new EstuaryError('ERR_CODEC_CONFIG', 'dOps channel mapping truncated');
  const head = Buffer.alloc(19 + mappingLen);
  head.write('OpusHead', 0, 'latin1');
  head[8] = 1; // OpusHead version 1
  head[9] = d[1];
  head.writeUInt16LE(d.readUInt16BE(2), 10);
  head.writeUInt32LE(d.readUInt32BE(4), 12);
  head.writeInt16LE(d.readInt16BE(8), 16);
  head[18] = family;
  d.copy(head, 19, 11, 11 + mappingLen);
  return head;
}
