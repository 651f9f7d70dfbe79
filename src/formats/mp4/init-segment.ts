/**
 * The fMP4 initialization segment (ISO/IEC 14496-12 8.8, ISO/IEC 23000-19 CMAF 7.3.1): ftyp +
 * moov with empty sample tables and an mvex announcing that samples come in movie fragments.
 */
import { EstuaryError } from '../../errors.js';
import type { AudioTrack, VideoTrack } from '../../media/track.js';
import { ftyp, moov, mvex, mvhd } from './boxes.js';
import { chunkOffsetBox, stsc, stsz, stts } from './table-boxes.js';
import { AUDIO_TRACK_ID, buildTrak, trackTimescale, VIDEO_TRACK_ID } from './track-box.js';

/** The movie (mvhd) timescale: milliseconds, like the rest of Estuary. */
export const MOVIE_TIMESCALE = 1000;

export interface InitSegmentOptions {
  /** Override the track IDs (defaults: video 1, audio 2). */
  videoTrackId?: number;
  audioTrackId?: number;
}

export interface InitTrackInfo {
  kind: 'video' | 'audio';
  trackId: number;
  timescale: number;
}

/**
 * Brands: iso6 (14496-12 E.4) allows tfdt/default-base-is-moof; iso5 kept for older readers that
 * key on it; mp41 for MP4 file-format readers. Same set FFmpeg's "frag_keyframe+empty_moov" uses.
 */
const INIT_BRANDS = ['iso5', 'iso6', 'mp41'];

/** The track IDs and timescales an init segment built from these tracks uses. */
export function initTrackInfo(
  tracks: { video?: VideoTrack; audio?: AudioTrack },
  opts: InitSegmentOptions = {},
): InitTrackInfo[] {
  const out: InitTrackInfo[] = [];
  if (tracks.video) {
    const trackId = opts.videoTrackId ?? VIDEO_TRACK_ID;
    out.push({ kind: 'video', trackId, timescale: trackTimescale(tracks.video) });
  }
  if (tracks.audio) {
    const trackId = opts.audioTrackId ?? AUDIO_TRACK_ID;
    out.push({ kind: 'audio', trackId, timescale: trackTimescale(tracks.audio) });
  }
  return out;
}

/** ftyp + moov(mvhd, trak per track, mvex); one or two tracks. */
export function buildInitSegment(
  tracks: { video?: VideoTrack; audio?: AudioTrack },
  opts: InitSegmentOptions = {},
): Buffer {
  const infos = initTrackInfo(tracks, opts);
  if (infos.length === 0)
    throw new EstuaryError('ERR_MP4_FORMAT', 'an init segment needs at least one track');
  if (infos.length === 2 && infos[0].trackId === infos[1].trackId) {
    throw new EstuaryError('ERR_MP4_FORMAT', `duplicate track id ${infos[0].trackId}`);
  }
  const empty = new Uint32Array(0);
  const traks = infos.map((info) =>
    buildTrak({
      track: info.kind === 'video' ? tracks.video! : tracks.audio!,
      trackId: info.trackId,
      timescale: info.timescale,
      mediaDuration: 0,
      movieDuration: 0,
      tables: [stts(empty), stsc(empty), stsz(empty), chunkOffsetBox(empty, false)],
    }),
  );
  const nextTrackId = Math.max(...infos.map((i) => i.trackId)) + 1;
  return Buffer.concat([
    ftyp('iso5', 512, INIT_BRANDS),
    moov(mvhd(MOVIE_TIMESCALE, 0, nextTrackId), ...traks, mvex(infos.map((i) => i.trackId))),
  ]);
}
