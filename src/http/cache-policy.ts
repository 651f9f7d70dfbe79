/**
 * Cache-Control for a file under the data directory, decided from the file system alone (no
 * hub), so the origin's web port and a separate file gateway reading the same data directory
 * answer alike. A cache in front (nginx, a CDN) may keep what can never change under its URL for
 * good, and must revalidate everything else (`no-cache` still lets it keep a copy and ask with
 * the ETag, RFC 9111 5.2.2.4):
 *  - a file still growing: an FLV whose `{file}.recording` sidecar exists, a `.part` being
 *    appended, a `.tmp` of an atomic write → no-cache;
 *  - a media segment written once under a name that carries its session id
 *    (`segment_{id}_00042.ts`, `seg_{id}_000042.m4s`): no later session writes that URL → immutable;
 *  - an earlier session's folder (`{stream}.{id}/`, moved aside and finished) → immutable;
 *  - in the latest session's folder everything else (playlists, init segments, meta.json, the
 *    complete MP4) → no-cache: the next session of the name writes the same URLs anew;
 *  - a finished FLV recording (unique name, never reopened) → immutable;
 *  - anything else: playlists, JSON and pages no-cache, the rest an hour.
 */
import { stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';

export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const NO_CACHE = 'no-cache';
const DEFAULT = 'public, max-age=3600';

/** Present in a recording folder while its session is live (record/recorder.ts RECORDING_MARKER). */
const MARKER = '.recording';
/** A segment whose name carries its session id (record/hls/segmenter.ts, record/fmp4/layout.ts). */
const SESSION_SEGMENT = /^[a-z]+_\d{8}_\d{6}(?:-\d+)?_\d+\.(?:ts|m4s)$/;
const GROWING = ['.part', '.tmp', MARKER];

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * `parts` are the URL path's segments under the data directory (`['hls', 'live', 'a',
 * 'index.m3u8']`), `file` the file they name.
 */
export async function cacheControlFor(root: string, parts: readonly string[], file: string): Promise<string> {
  const name = basename(file);
  const ext = extname(name).toLowerCase();
  if (GROWING.some((s) => name.endsWith(s))) return NO_CACHE;
  const [kind, app, folder] = parts;
  if (kind === 'flv' && parts.length === 4 && ext === '.flv') {
    return (await exists(`${file}${MARKER}`)) ? NO_CACHE : IMMUTABLE;
  }
  if ((kind === 'hls' || kind === 'mp4') && parts.length >= 4) {
    const live = await exists(join(root, kind, app, folder, MARKER));
    // Stream names have no '.': a folder with one is an earlier session, moved aside.
    if (!live && folder.includes('.')) return IMMUTABLE;
    return SESSION_SEGMENT.test(name) ? IMMUTABLE : NO_CACHE;
  }
  return ext === '.m3u8' || ext === '.html' || ext === '.json' ? NO_CACHE : DEFAULT;
}
