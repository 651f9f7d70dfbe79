/**
 * Parses a whole 'moov' (ISO/IEC 14496-12 8.2) into tracks with their sample tables, edit-list
 * start offsets and fragment defaults (trex). Tracks that are not audio or video (hint, text,
 * timecode) or carry a codec Estuary cannot handle are skipped and reported, not fatal.
 */
import { EstuaryError, isEstuaryError } from '../../errors.js';
import type { Track } from '../../media/track.js';
import {
  BoxCursor,
  type BoxHeader,
  childBoxes,
  findChild,
  findPath,
  mp4Error,
  parseBoxHeader,
} from './box-reader.js';
import { MP4_SUPPORTED_CODECS } from './sample-entry-boxes.js';
import { parseSampleEntry } from './sample-entry-parser.js';
import { parseSampleTable, type SampleTable } from './sample-table-parser.js';

export interface TrackDefaults {
  duration: number;
  size: number;
  flags: number;
}

export interface ParsedTrack {
  trackId: number;
  timescale: number;
  track: Track;
  table: SampleTable;
  /** elst media_time of the first non-empty edit (ticks): media time that plays at the start. */
  mediaTimeOffset: number;
  /** Total of the empty edits before it, ms: the track starts this late in the presentation. */
  emptyEditMs: number;
  /** Fragment defaults from trex (8.8.3). */
  defaults: TrackDefaults;
}

export interface ParsedMovie {
  timescale: number;
  tracks: ParsedTrack[];
  /** Tracks left out, with why. */
  skipped: string[];
  /** moov has an mvex: samples (also) come in movie fragments. */
  fragmented: boolean;
}

/** 8.6.6 EditListBox: the empty edits at the start, then the media_time of the first real edit. */
function parseEditList(
  buf: Buffer,
  trak: BoxHeader,
  movieTimescale: number,
): { offset: number; emptyMs: number } {
  const elst = findPath(buf, trak, 'edts', 'elst');
  if (!elst) return { offset: 0, emptyMs: 0 };
  const c = BoxCursor.of(buf, elst);
  const { version } = c.versionFlags();
  const n = c.count(version === 1 ? 20 : 12);
  let emptyMs = 0;
  for (let i = 0; i < n; i++) {
    const duration = version === 1 ? c.u64() : c.u32();
    const mediaTime = version === 1 ? c.i64() : c.i32();
    c.skip(4); // media_rate
    if (mediaTime !== -1) return { offset: mediaTime, emptyMs };
    emptyMs += (duration * 1000) / movieTimescale;
  }
  return { offset: 0, emptyMs };
}

function parseTimescale(buf: Buffer, h: BoxHeader): number {
  const c = BoxCursor.of(buf, h);
  const { version } = c.versionFlags();
  c.skip(version === 1 ? 16 : 8); // creation and modification times
  const timescale = c.u32();
  if (timescale === 0) throw mp4Error(`${h.type}: timescale 0`);
  return timescale;
}

function parseTrackId(buf: Buffer, tkhd: BoxHeader): number {
  const c = BoxCursor.of(buf, tkhd);
  const { version } = c.versionFlags();
  c.skip(version === 1 ? 16 : 8);
  return c.u32();
}

function handlerType(buf: Buffer, hdlr: BoxHeader): string {
  const c = BoxCursor.of(buf, hdlr);
  c.skip(8); // version/flags, pre_defined
  return c.bytes(4).toString('latin1');
}

function parseTrex(buf: Buffer, mvex: BoxHeader | undefined): Map<number, TrackDefaults> {
  const out = new Map<number, TrackDefaults>();
  if (!mvex) return out;
  for (const h of childBoxes(buf, mvex.start + mvex.headerSize, mvex.start + mvex.size)) {
    if (h.type !== 'trex') continue;
    const c = BoxCursor.of(buf, h);
    c.versionFlags();
    const trackId = c.u32();
    c.skip(4); // default_sample_description_index
    out.set(trackId, { duration: c.u32(), size: c.u32(), flags: c.u32() });
  }
  return out;
}

function parseTrak(
  buf: Buffer,
  trak: BoxHeader,
  movieTimescale: number,
  maxSamples: number,
): ParsedTrack | string {
  const tkhd = findChild(buf, trak, 'tkhd');
  const mdia = findChild(buf, trak, 'mdia');
  const mdhd = mdia && findChild(buf, mdia, 'mdhd');
  const hdlr = mdia && findChild(buf, mdia, 'hdlr');
  const stbl = mdia && findPath(buf, mdia, 'minf', 'stbl');
  const stsd = stbl && findChild(buf, stbl, 'stsd');
  if (!tkhd || !mdhd || !hdlr || !stbl || !stsd) throw mp4Error('trak lacks tkhd/mdhd/hdlr/stbl/stsd');
  const trackId = parseTrackId(buf, tkhd);
  const handler = handlerType(buf, hdlr);
  if (handler !== 'vide' && handler !== 'soun')
    return `track ${trackId}: handler '${handler}' is not audio/video`;
  let track: Track;
  try {
    track = parseSampleEntry(buf, stsd, handler);
  } catch (err) {
    if (isEstuaryError(err, 'ERR_CODEC_UNSUPPORTED')) return `track ${trackId}: ${err.message}`;
    throw err;
  }
  const edits = parseEditList(buf, trak, movieTimescale);
  return {
    trackId,
    timescale: parseTimescale(buf, mdhd),
    track,
    table: parseSampleTable(buf, stbl, maxSamples),
    mediaTimeOffset: edits.offset,
    emptyEditMs: edits.emptyMs,
    defaults: { duration: 0, size: 0, flags: 0 },
  };
}

/** `buf` holds exactly one moov box starting at offset 0. */
export function parseMovie(buf: Buffer, maxSamples: number): ParsedMovie {
  const moov = parseBoxHeader(buf, 0, buf.length);
  if (moov.type !== 'moov') throw mp4Error(`expected moov, got '${moov.type}'`);
  const mvhd = findChild(buf, moov, 'mvhd');
  if (!mvhd) throw mp4Error('moov has no mvhd');
  const timescale = parseTimescale(buf, mvhd);
  const mvex = findChild(buf, moov, 'mvex');
  const trex = parseTrex(buf, mvex);
  const tracks: ParsedTrack[] = [];
  const skipped: string[] = [];
  for (const h of childBoxes(buf, moov.headerSize, moov.size)) {
    if (h.type !== 'trak') continue;
    const t = parseTrak(buf, h, timescale, maxSamples);
    if (typeof t === 'string') skipped.push(t);
    else tracks.push({ ...t, defaults: trex.get(t.trackId) ?? t.defaults });
  }
  if (tracks.length === 0) {
    const why = skipped.length > 0 ? ` (${skipped.join('; ')})` : '';
    throw new EstuaryError(
      'ERR_CODEC_UNSUPPORTED',
      `the MP4 has no track Estuary can read${why}; supported: ${MP4_SUPPORTED_CODECS}`,
    );
  }
  return { timescale, tracks, skipped, fragmented: mvex !== undefined };
}
