/**
 * The files of an HLS output beside its playlist: `out.m3u8` → `out_00000.ts` … (or `.m4s`) and
 * `out_init.mp4`. Named after the playlist so two outputs in one folder never share a file, and
 * zero-padded so a listing sorts in playback order. Pure.
 */
import { basename, dirname, extname, join } from 'node:path';

export interface HlsNames {
  dir: string;
  /** Relative URI (as the playlist lists it) of segment `sequence`. */
  segment(sequence: number): string;
  init: string;
}

export function hlsNames(playlistPath: string, segmentExt: '.ts' | '.m4s'): HlsNames {
  const base = basename(playlistPath, extname(playlistPath));
  return {
    dir: dirname(playlistPath),
    segment: (n) => `${base}_${String(n).padStart(5, '0')}${segmentExt}`,
    init: `${base}_init.mp4`,
  };
}

export function inDir(names: HlsNames, uri: string): string {
  return join(names.dir, uri);
}
