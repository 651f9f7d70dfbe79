/**
 * File layout of an MP4 recording (CONTRACT.md, `mp4/{app}/{stream}/…`) and its listings, shared
 * by the live recorder, the merge and crash recovery so they always agree on names.
 */
import { basename, join } from 'node:path';
import { renderMediaPlaylist } from '../../formats/m3u8/playlist.js';
import type { OutputName } from './fragment-run.js';

export const MERGE_DIR = 'output_merge';
export const SEPARATE_DIR = 'output_separate';
/**
 * The complete progressive MP4 of stream `{app}/{stream}`, written after the end (as `.tmp`, then
 * renamed): `{stream}_full.mp4`, the seed's name (its README's `mp4/live/stream/output_merge/
 * stream_full.mp4` is the stream live/stream).
 */
export function fullMp4Name(stream: string): string {
  return `${stream}_full.mp4`;
}

/**
 * The stream a recording folder belongs to: `mp4/{app}/{stream}` or an earlier session's
 * `mp4/{app}/{stream}.{id}` (stream names have no '.').
 */
export function streamOfFolder(dir: string): string {
  return basename(dir).split('.', 1)[0];
}

export interface OutputLayout {
  name: OutputName;
  /** Folder under the recording folder. */
  dir: string;
  init: string;
  playlist: string;
  /** Segment file name stem: `{stem}_{session}_{number}.m4s`. */
  stem: string;
}

export const OUTPUTS: readonly OutputLayout[] = [
  { name: 'merged', dir: MERGE_DIR, init: 'init.mp4', playlist: 'index.m3u8', stem: 'seg' },
  { name: 'video', dir: SEPARATE_DIR, init: 'video_init.mp4', playlist: 'video.m3u8', stem: 'video' },
  { name: 'audio', dir: SEPARATE_DIR, init: 'audio_init.mp4', playlist: 'audio.m3u8', stem: 'audio' },
];

/** The open segment is appended to `{segment}.part` and renamed once whole. */
export const PART_SUFFIX = '.part';

/** `.m4s`: the extension RFC 8216 3.3 examples and DASH use for fMP4 media segments. */
export const SEGMENT_EXT = '.m4s';

/**
 * `seg_20250102_030405_000001.m4s` (`seg_000001.m4s` without a session): zero-padded so names
 * sort in order; the session id keeps a later session of the same name from ever writing a URL
 * an earlier one wrote, so a cache may keep segments for good.
 */
export function segmentName(o: OutputLayout, sequence: number, session?: string): string {
  const n = String(sequence).padStart(6, '0');
  return `${o.stem}_${session === undefined ? '' : `${session}_`}${n}${SEGMENT_EXT}`;
}

/** The sequence number in a segment file name of this output, or undefined when it is not one. */
export function segmentNumber(o: OutputLayout, file: string): number | undefined {
  const m = /^([a-z]+)_(?:\d{8}_\d{6}(?:-\d+)?_)?(\d{1,9})\.m4s$/.exec(file);
  return m && m[1] === o.stem ? Number(m[2]) : undefined;
}

export function outputPath(recording: string, o: OutputLayout, file: string): string {
  return join(recording, o.dir, file);
}

export interface ListedSegment {
  uri: string;
  seconds: number;
  /** File size, for the master playlist's BANDWIDTH. */
  bytes?: number;
}

/**
 * fMP4 HLS listing (RFC 8216 4.3.2.5 EXT-X-MAP, version 6): EVENT while the stream is live, since
 * every segment is kept (the merge needs them all; 4.3.3.5 lets an EVENT playlist only grow), and
 * ENDLIST once it ended. Every segment starts with a random access point (4.3.5.1).
 */
export function renderListing(
  o: OutputLayout,
  segments: readonly ListedSegment[],
  targetSeconds: number,
  ended: boolean,
): string {
  return renderMediaPlaylist({
    version: 6,
    targetDuration: targetSeconds,
    mediaSequence: 0,
    playlistType: 'EVENT',
    independentSegments: true,
    map: { uri: o.init },
    segments: segments.map((s) => ({ uri: s.uri, duration: s.seconds })),
    ended,
  });
}
