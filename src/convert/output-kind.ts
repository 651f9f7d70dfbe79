/**
 * Which file a conversion writes, decided from the OUTPUT name and the flags (pure: names in, a
 * plan out), so the CLI and library callers get the same answer and the same errors.
 */
import { extname } from 'node:path';

export type OutputKind = 'mp4' | 'fmp4' | 'flv' | 'hls-ts' | 'hls-fmp4';

export interface OutputChoice {
  /** Fragmented MP4 instead of fast start for an .mp4 output. */
  fragmented?: boolean;
  /** fMP4 segments instead of MPEG-TS for an .m3u8 output. */
  fmp4?: boolean;
}

/** What each kind is, for messages and `--help`. */
export const OUTPUT_KINDS: Readonly<Record<OutputKind, string>> = {
  mp4: 'MP4, fast start (moov before mdat)',
  fmp4: 'fragmented MP4 (moov, then moof + mdat per segment)',
  flv: 'FLV',
  'hls-ts': 'HLS: VOD playlist and MPEG-TS segments beside it',
  'hls-fmp4': 'HLS: VOD playlist, an init segment and fMP4 segments beside it',
};

/** The kind of output `path` names, or an Error saying which names and flags go together. */
export function outputKindFor(path: string, choice: OutputChoice = {}): OutputKind {
  const ext = extname(path).toLowerCase();
  switch (ext) {
    case '.mp4':
    case '.m4v':
    case '.mov':
      if (choice.fmp4)
        throw new Error('--fmp4 is for an .m3u8 output; for a fragmented .mp4 use --fragmented');
      return choice.fragmented ? 'fmp4' : 'mp4';
    case '.flv':
      if (choice.fragmented || choice.fmp4)
        throw new Error('--fragmented and --fmp4 do not apply to an .flv output');
      return 'flv';
    case '.m3u8':
      if (choice.fragmented)
        throw new Error('--fragmented is for an .mp4 output; for fMP4 HLS segments use --fmp4');
      return choice.fmp4 ? 'hls-fmp4' : 'hls-ts';
    default:
      throw new Error(
        `cannot tell the output format from "${path}": name it .mp4, .flv or .m3u8` +
          (ext ? ` (not ${ext})` : ''),
      );
  }
}
