/**
 * `--force` onto an existing playlist: the files the old playlist named that the new conversion
 * did not write (a longer earlier conversion's last segments, the init segment of an fMP4 HLS
 * replaced by MPEG-TS). Only what the old playlist lists is considered, and only bare file
 * names beside it: a URI with a directory, a scheme, a query or `..` is never touched, so a
 * playlist pointing elsewhere cannot make a conversion delete anything outside its folder. Pure.
 */
import { join, resolve } from 'node:path';

/** URI lines (RFC 8216 4.1: lines that are not blank and do not start with #) and EXT-X-MAP URIs. */
export function playlistUris(text: string): string[] {
  const uris: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (!line.startsWith('#')) uris.push(line);
    else if (line.startsWith('#EXT-X-MAP:')) {
      // EXT-X-MAP:URI="…" (4.3.2.5), a quoted-string: no quotes inside.
      const m = /(?:^|[:,])URI="([^"]*)"/.exec(line.slice('#EXT-X-MAP:'.length));
      if (m) uris.push(m[1]);
    }
  }
  return uris;
}

const BARE_NAME = /^[^/\\:?#%]+$/;

/**
 * Paths of the old playlist's files to remove: bare names in `dir`, not among `written` (the new
 * conversion's files, the playlist first).
 */
export function staleFiles(oldPlaylist: string, dir: string, written: readonly string[]): string[] {
  const keep = new Set(written.map((f) => resolve(f)));
  const out = new Set<string>();
  for (const uri of playlistUris(oldPlaylist)) {
    if (!BARE_NAME.test(uri) || uri === '.' || uri === '..') continue;
    const path = resolve(join(dir, uri));
    if (!keep.has(path)) out.add(path);
  }
  return [...out];
}
