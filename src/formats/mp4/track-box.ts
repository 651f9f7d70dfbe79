/**
 * Assembles one 'trak' (tkhd, optional edts, mdia/mdhd/hdlr/minf/stbl) from a Track and its sample
 * tables; shared by the init segment (empty tables) and the progressive movie box.
 */
import type { Track } from '../../media/track.js';
import { dinf, type EditEntry, edts, hdlr, mdhd, mdia, minf, smhd, stbl, tkhd, trak, vmhd } from './boxes.js';
import { sampleEntry, stsd } from './sample-entry-boxes.js';

/** Track IDs Estuary writes: stable across merged and single-track outputs so fragments fit either. */
export const VIDEO_TRACK_ID = 1;
export const AUDIO_TRACK_ID = 2;

/**
 * Video uses 90 kHz: every integer millisecond maps to exactly 90 ticks, it matches MPEG-TS (so HLS
 * and fMP4 recordings share timestamps), and the usual frame rates get integer durations (25 fps =
 * 3600, 29.97 = 3003, 60 = 1500), which a 1 kHz timescale cannot give for 29.97 or 60 fps.
 * Audio uses its sample rate so an AAC frame is exactly 1024 ticks; Opus always 48 kHz
 * (Opus-in-ISOBMFF 4.1: "the timescale ... should be 48000").
 */
export const VIDEO_TIMESCALE = 90000;

export function trackTimescale(track: Track): number {
  if (track.kind === 'video') return VIDEO_TIMESCALE;
  if (track.codec === 'opus') return 48000;
  return track.sampleRate;
}

export interface TrakOptions {
  track: Track;
  trackId: number;
  timescale: number;
  /** Media duration in the track timescale (0 for fragmented output). */
  mediaDuration: number;
  /** Duration in the movie timescale (tkhd). */
  movieDuration: number;
  /** stts, ctts?, stss?, stsz, stsc, stco/co64, in that order (14496-12 8.5.1 lists no order; FFmpeg's). */
  tables: Buffer[];
  edits?: EditEntry[];
}

export function buildTrak(o: TrakOptions): Buffer {
  const { track } = o;
  const header = tkhd({
    trackId: o.trackId,
    duration: o.movieDuration,
    kind: track.kind,
    width: track.kind === 'video' ? track.width : 0,
    height: track.kind === 'video' ? track.height : 0,
  });
  const mediaHeader = track.kind === 'video' ? vmhd() : smhd();
  const media = mdia(
    mdhd(o.timescale, o.mediaDuration),
    hdlr(track.kind),
    minf(mediaHeader, dinf(), stbl(stsd(sampleEntry(track)), ...o.tables)),
  );
  return o.edits && o.edits.length > 0 ? trak(header, edts(o.edits), media) : trak(header, media);
}
