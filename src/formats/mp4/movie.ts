/**
 * The complete (progressive) MP4's movie box, built from per-track sample tables, and the
 * fast-start layout ftyp, moov, mdat (moov first so playback can start before the download ends).
 * The merge of recorded fragments streams: it collects tables (sample-table-builder.ts), writes
 * the three headers this returns, then copies sample bytes in the order it planned.
 */
import { EstuaryError } from '../../errors.js';
import type { Track } from '../../media/track.js';
import { childBoxes, findChild, findPath } from './box-reader.js';
import { checkU32, TWO_POW_32, writeU64 } from './box-writer.js';
import { type EditEntry, ftyp, moov, mvhd } from './boxes.js';
import { mdatHeader } from './fragment-boxes.js';
import { MOVIE_TIMESCALE } from './init-segment.js';
import { chunkOffsetBox, ctts, stsc, stss, stsz, stts } from './table-boxes.js';
import { buildTrak } from './track-box.js';

export interface MovieTrackTables {
  track: Track;
  trackId: number;
  timescale: number;
  /** Decode time (track ticks) of the first sample relative to the movie start; > 0 adds an empty edit. */
  startTime?: number;
  /**
   * Composition time (track ticks, on the media timeline that starts at the first decode time)
   * of the first sample shown: with B-frames it is above 0, and an edit starting there makes the
   * first picture show at the track's start rather than that much later (FFmpeg's mov muxer does
   * the same). Default 0.
   */
  mediaTime?: number;
  sampleSizes: Uint32Array;
  /** Decode-time deltas, run-length encoded into stts. */
  sampleDurations: Uint32Array;
  /** pts − dts per sample (ctts); omit when all zero. */
  compositionOffsets?: Int32Array;
  /** 1-based sync sample numbers (stss); omit when every sample is sync. */
  syncSamples?: Uint32Array;
  /** Samples in each chunk (stsc); they sum to the sample count. */
  chunkSampleCounts: Uint32Array;
  /** File offset of each chunk (stco, or co64 when one exceeds 2^32 − 1). */
  chunkOffsets: Float64Array;
}

function sum(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s;
}

function toMovieTime(ticks: number, timescale: number): number {
  return Math.round((ticks * MOVIE_TIMESCALE) / timescale);
}

function checkConsistent(t: MovieTrackTables): void {
  const n = t.sampleSizes.length;
  const bad =
    t.sampleDurations.length !== n ||
    (t.compositionOffsets !== undefined && t.compositionOffsets.length !== n) ||
    t.chunkSampleCounts.length !== t.chunkOffsets.length ||
    sum(t.chunkSampleCounts) !== n ||
    t.syncSamples?.some((s) => s < 1 || s > n) === true;
  if (bad)
    throw new EstuaryError('ERR_MP4_FORMAT', `track ${t.trackId}: sample tables disagree on the count`);
}

/**
 * Media duration and the edit list (14496-12 8.6.6): an empty edit first when the track starts
 * late (media_time -1: the track shows nothing for its duration), then the media from the first
 * composition time shown.
 */
function trackTiming(t: MovieTrackTables): { media: number; movie: number; edits?: EditEntry[] } {
  const media = sum(t.sampleDurations);
  const start = toMovieTime(t.startTime ?? 0, t.timescale);
  const body = toMovieTime(media, t.timescale);
  const mediaTime = t.mediaTime ?? 0;
  if (start <= 0 && mediaTime === 0) return { media, movie: body };
  const edits: EditEntry[] = start > 0 ? [{ segmentDuration: start, mediaTime: -1 }] : [];
  edits.push({ segmentDuration: body, mediaTime });
  return { media, movie: Math.max(0, start) + body, edits };
}

/**
 * moov for a progressive MP4. `large[i]` forces co64 for track i; by default a track uses co64
 * only when one of its chunk offsets needs more than 32 bits.
 */
export function buildMovieBox(tracks: readonly MovieTrackTables[], large?: readonly boolean[]): Buffer {
  if (tracks.length === 0) throw new EstuaryError('ERR_MP4_FORMAT', 'a movie needs at least one track');
  let movieDuration = 0;
  const traks = tracks.map((t, i) => {
    checkConsistent(t);
    const timing = trackTiming(t);
    movieDuration = Math.max(movieDuration, timing.movie);
    const tables = [stts(t.sampleDurations)];
    if (t.compositionOffsets) tables.push(ctts(t.compositionOffsets));
    if (t.syncSamples) tables.push(stss(t.syncSamples));
    tables.push(stsz(t.sampleSizes), stsc(t.chunkSampleCounts), chunkOffsetBox(t.chunkOffsets, large?.[i]));
    return buildTrak({
      track: t.track,
      trackId: t.trackId,
      timescale: t.timescale,
      mediaDuration: timing.media,
      movieDuration: timing.movie,
      tables,
      edits: timing.edits,
    });
  });
  const nextTrackId = Math.max(...tracks.map((t) => t.trackId)) + 1;
  return moov(mvhd(MOVIE_TIMESCALE, movieDuration, nextTrackId), ...traks);
}

/** ftyp of a progressive MP4: isom with iso2 (14496-12 E.3) and mp41; avc1 when H.264 is inside. */
export function progressiveFtyp(tracks: readonly MovieTrackTables[]): Buffer {
  const brands = ['isom', 'iso2', 'mp41'];
  if (tracks.some((t) => t.track.codec === 'h264')) brands.splice(2, 0, 'avc1');
  return ftyp('isom', 512, brands);
}

export interface FastStartLayout {
  ftyp: Buffer;
  moov: Buffer;
  mdatHeader: Buffer;
  /** File offset of the first mdat payload byte (= ftyp + moov + mdat header lengths). */
  mdatPayloadOffset: number;
  /** Per track: true when it got co64. */
  co64: boolean[];
}

function maxOf(values: Float64Array): number {
  let m = -1;
  for (let i = 0; i < values.length; i++) if (values[i] > m) m = values[i];
  return m;
}

/**
 * Writes each track's absolute chunk offsets (relative + `base`) into the stco / co64 of a moov
 * built with zeroed ones: the traks are in `tracks` order, each table at moov/trak/mdia/minf/stbl.
 */
function patchChunkOffsets(
  movie: Buffer,
  tracks: readonly MovieTrackTables[],
  large: readonly boolean[],
  base: number,
): void {
  const traks = childBoxes(movie, 8, movie.length).filter((b) => b.type === 'trak');
  tracks.forEach((t, i) => {
    const stbl = findPath(movie, traks[i], 'mdia', 'minf', 'stbl');
    const table = stbl && findChild(movie, stbl, large[i] ? 'co64' : 'stco');
    if (!table) throw new EstuaryError('ERR_MP4_FORMAT', `track ${t.trackId}: no chunk offset table`);
    // FullBox header (4.2), then entry_count (8.7.5.2), then the entries.
    const first = table.start + table.headerSize + 8;
    const offsets = t.chunkOffsets;
    if (large[i]) {
      for (let j = 0; j < offsets.length; j++) writeU64(movie, offsets[j] + base, first + 8 * j);
    } else {
      for (let j = 0; j < offsets.length; j++)
        movie.writeUInt32BE(checkU32(offsets[j] + base, 'stco offset'), first + 4 * j);
    }
  });
}

/**
 * Plans ftyp, moov, mdat for tables whose chunkOffsets are relative to the mdat payload start.
 * The absolute offsets depend on the moov size, which depends on stco (4 bytes an entry) vs co64
 * (8): start with stco everywhere, switch each track whose last chunk would land at or past 2^32,
 * and repeat, since the moov just grew and may push another track over. Switching only ever grows
 * the moov, so this ends after at most one round per track. The moov is built once with zeroed
 * offsets (again only when a track switched to co64) and the offsets are then written into it:
 * a 30-minute recording's moov (~120k samples) takes tens of ms to build.
 */
export function layoutFastStart(
  tracks: readonly MovieTrackTables[],
  mdatPayloadSize: number,
): FastStartLayout {
  const fileType = progressiveFtyp(tracks);
  const header = mdatHeader(mdatPayloadSize);
  const large = tracks.map(() => false);
  const zeroed = tracks.map((t) => ({ ...t, chunkOffsets: new Float64Array(t.chunkOffsets.length) }));
  let movie = buildMovieBox(zeroed, large);
  const stcoMoovSize = movie.length;
  const moovSize = () => stcoMoovSize + sum(tracks.map((t, i) => (large[i] ? 4 * t.chunkOffsets.length : 0)));
  for (let changed = true; changed; ) {
    changed = false;
    const base = fileType.length + moovSize() + header.length;
    tracks.forEach((t, i) => {
      if (!large[i] && maxOf(t.chunkOffsets) + base >= TWO_POW_32) {
        large[i] = true;
        changed = true;
      }
    });
  }
  if (large.some((l) => l)) movie = buildMovieBox(zeroed, large);
  if (movie.length !== moovSize()) {
    throw new EstuaryError('ERR_MP4_FORMAT', `moov size ${movie.length} != planned ${moovSize()}`);
  }
  const base = fileType.length + movie.length + header.length;
  patchChunkOffsets(movie, tracks, large, base);
  return { ftyp: fileType, moov: movie, mdatHeader: header, mdatPayloadOffset: base, co64: large };
}
