/**
 * One small function per structural box of the movie header (ISO/IEC 14496-12, section numbers
 * below). They take plain values and return bytes; timing decisions live in fragment-timing.ts and
 * movie.ts. Sample entries are in sample-entry-boxes.ts, sample tables in table-boxes.ts, fragment
 * boxes in fragment-boxes.ts: one file for all of them would be ~700 lines.
 */
import { box, checkU32, fourcc, fullBox, TWO_POW_32, u32s, writeU64 } from './box-writer.js';

/** 4.3 FileTypeBox. */
export function ftyp(majorBrand: string, minorVersion: number, compatibleBrands: string[]): Buffer {
  return box('ftyp', fourcc(majorBrand), u32s(minorVersion), ...compatibleBrands.map(fourcc));
}

/** 8.2.1 MovieBox. */
export function moov(...children: Buffer[]): Buffer {
  return box('moov', ...children);
}

/** The unity matrix {0x00010000,0,0, 0,0x00010000,0, 0,0,0x40000000} of 8.2.2 / 8.3.2 (36 bytes). */
function unityMatrix(): Buffer {
  return u32s(0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000);
}

/** Version 1 (64-bit times) only when a duration overflows 32 bits (8.2.2.2). */
function timeVersion(duration: number): 0 | 1 {
  return duration >= TWO_POW_32 ? 1 : 0;
}

/** creation_time, modification_time (0: unknown, keeps output deterministic), then the rest. */
function times(version: 0 | 1, middle: number, duration: number): Buffer {
  if (version === 0) return u32s(0, 0, middle, duration);
  const out = Buffer.alloc(28);
  out.writeUInt32BE(middle, 16);
  writeU64(out, duration, 20);
  return out;
}

/** 8.2.2 MovieHeaderBox: timescale and duration of the whole presentation. */
export function mvhd(timescale: number, duration: number, nextTrackId: number): Buffer {
  const v = timeVersion(duration);
  const tail = Buffer.alloc(80);
  tail.writeUInt32BE(0x00010000, 0); // rate 1.0 (16.16)
  tail.writeUInt16BE(0x0100, 4); // volume 1.0 (8.8); 2 + 8 reserved bytes follow
  unityMatrix().copy(tail, 16);
  // 24 bytes pre_defined (zero) at 52..75
  tail.writeUInt32BE(nextTrackId, 76);
  return fullBox('mvhd', v, 0, times(v, timescale, duration), tail);
}

export interface TrackHeader {
  trackId: number;
  /** In the movie timescale (mvhd). */
  duration: number;
  kind: 'video' | 'audio';
  width: number;
  height: number;
}

/** 8.3.2 TrackHeaderBox; flags 3 = track_enabled | track_in_movie. */
export function tkhd(h: TrackHeader): Buffer {
  const v = timeVersion(h.duration);
  let head: Buffer;
  if (v === 0) head = u32s(0, 0, h.trackId, 0, h.duration);
  else {
    head = Buffer.alloc(32);
    head.writeUInt32BE(h.trackId, 16);
    writeU64(head, h.duration, 24);
  }
  const tail = Buffer.alloc(60);
  // 8 reserved, layer(16) 0, alternate_group(16) 0, then volume: 1.0 for audio, 0 for video (8.3.2.3).
  tail.writeUInt16BE(h.kind === 'audio' ? 0x0100 : 0, 12);
  unityMatrix().copy(tail, 16);
  // width/height are 16.16 fixed point.
  tail.writeUInt32BE(checkU32(h.width * 65536, 'tkhd width'), 52);
  tail.writeUInt32BE(checkU32(h.height * 65536, 'tkhd height'), 56);
  return fullBox('tkhd', v, 3, head, tail);
}

/** 8.3.1 TrackBox. */
export function trak(...children: Buffer[]): Buffer {
  return box('trak', ...children);
}

export interface EditEntry {
  /** In the movie timescale. */
  segmentDuration: number;
  /** In the media timescale; -1 is an empty edit (a gap before the media starts). */
  mediaTime: number;
}

/** 8.6.5 EditBox holding one EditListBox (8.6.6), version 0 (32-bit fields) unless a value overflows. */
export function edts(entries: EditEntry[]): Buffer {
  const wide = entries.some((e) => e.segmentDuration >= TWO_POW_32 || e.mediaTime >= 2 ** 31);
  const entrySize = wide ? 20 : 12;
  const body = Buffer.alloc(4 + entries.length * entrySize);
  body.writeUInt32BE(entries.length, 0);
  entries.forEach((e, i) => {
    const off = 4 + i * entrySize;
    if (wide) {
      writeU64(body, e.segmentDuration, off);
      if (e.mediaTime < 0) body.fill(0xff, off + 8, off + 16);
      else writeU64(body, e.mediaTime, off + 8);
    } else {
      body.writeUInt32BE(e.segmentDuration, off);
      body.writeInt32BE(e.mediaTime, off + 4);
    }
    // media_rate_integer 1, media_rate_fraction 0.
    body.writeUInt32BE(0x00010000, off + entrySize - 4);
  });
  return box('edts', fullBox('elst', wide ? 1 : 0, 0, body));
}

/** 8.4.1 MediaBox. */
export function mdia(...children: Buffer[]): Buffer {
  return box('mdia', ...children);
}

/** 8.4.2 MediaHeaderBox; language 'und' packed as three 5-bit letters minus 0x60 (= 0x55c4). */
export function mdhd(timescale: number, duration: number): Buffer {
  const v = timeVersion(duration);
  const lang = Buffer.from([0x55, 0xc4, 0, 0]); // + pre_defined(16)
  return fullBox('mdhd', v, 0, times(v, timescale, duration), lang);
}

/** 8.4.3 HandlerBox: 'vide' or 'soun', with a null-terminated name. */
export function hdlr(kind: 'video' | 'audio'): Buffer {
  const type = kind === 'video' ? 'vide' : 'soun';
  const name = kind === 'video' ? 'VideoHandler' : 'SoundHandler';
  return fullBox('hdlr', 0, 0, u32s(0), fourcc(type), Buffer.alloc(12), Buffer.from(`${name}\0`, 'latin1'));
}

/** 8.4.4 MediaInformationBox. */
export function minf(...children: Buffer[]): Buffer {
  return box('minf', ...children);
}

/** 12.1.2 VideoMediaHeaderBox: flags 1 is required; graphicsmode copy, opcolor 0. */
export function vmhd(): Buffer {
  return fullBox('vmhd', 0, 1, Buffer.alloc(8));
}

/** 12.2.2 SoundMediaHeaderBox: balance 0 (centre). */
export function smhd(): Buffer {
  return fullBox('smhd', 0, 0, Buffer.alloc(4));
}

/** 8.7.1 DataInformationBox with one self-contained 'url ' entry (flags 1: media in this file). */
export function dinf(): Buffer {
  return box('dinf', fullBox('dref', 0, 0, u32s(1), fullBox('url ', 0, 1)));
}

/** 8.5.1 SampleTableBox. */
export function stbl(...children: Buffer[]): Buffer {
  return box('stbl', ...children);
}

/** 8.8.1 MovieExtendsBox: announces fragments; one TrackExtendsBox per track. */
export function mvex(trackIds: number[]): Buffer {
  return box('mvex', ...trackIds.map(trex));
}

/**
 * 8.8.3 TrackExtendsBox: default_sample_description_index 1, other defaults 0 because every
 * trun we write carries per-sample duration, size and flags.
 */
export function trex(trackId: number): Buffer {
  return fullBox('trex', 0, 0, u32s(trackId, 1, 0, 0, 0));
}
