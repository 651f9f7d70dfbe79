/**
 * Recordings behind the play rules of their stream (`authFiles`): `/hls/{app}/{stream}/…`,
 * `/mp4/…`, `/flv/…` are served only to a request whose query carries what a live play of
 * `{app}/{stream}` would need (a `?sign=` for `/{app}/{stream}`, a play key) from an address the
 * play lists allow. A player fetches the segments a playlist names without the playlist's query,
 * so a playlist is served with the request's query appended to each URI it lists (RFC 8216 4.1:
 * URI lines and `URI="…"` attributes) — the credentials then travel with every segment request.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname } from 'node:path';
import { describeError, EstuaryError } from '../errors.js';
import { makeStreamName, type StreamName } from '../hub/stream-name.js';
import { CORS_HEADERS, sendError, statusOf } from './respond.js';
import { realPathInside, resolveInside, serveStatic } from './static-files.js';

/** Throws ERR_AUTH / ERR_AUTH_REQUIRED when the file of `name` may not be read (AccessGuard.checkFile). */
export type FileCheck = (name: StreamName, query: string, address: string) => void;

/**
 * The stream a recording path belongs to: `/{root}/{app}/{stream}/…`, where a former session's
 * folder is `{stream}.{session}` (session-folder.ts); undefined for anything else.
 */
export function streamOfFile(urlPath: string): StreamName | undefined {
  let parts: string[];
  try {
    parts = decodeURIComponent(urlPath)
      .split('/')
      .filter((p) => p.length > 0);
  } catch {
    return undefined;
  }
  if (parts.length < 4) return undefined;
  try {
    return makeStreamName(parts[1]!, parts[2]!.split('.', 1)[0]!);
  } catch {
    return undefined;
  }
}

/** `playlist` with `query` (`?a=b`) added to every URI it lists; pure. */
export function playlistWithQuery(playlist: string, query: string): string {
  const q = query.startsWith('?') ? query.slice(1) : query;
  if (q === '') return playlist;
  const add = (uri: string) => `${uri}${uri.includes('?') ? '&' : '?'}${q}`;
  return playlist
    .split('\n')
    .map((line) => {
      const t = line.trim();
      if (t === '') return line;
      if (!t.startsWith('#')) return add(t);
      return line.replace(/URI="([^"]*)"/g, (_m, uri: string) => `URI="${add(uri)}"`);
    })
    .join('\n');
}

/** Serves `urlPath` under `root` if `check` lets this request read its stream's files. */
export async function serveProtected(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  urlPath: string,
  check: FileCheck,
): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const query = q < 0 ? '' : url.slice(q);
  const name = streamOfFile(urlPath);
  try {
    if (!name) throw new EstuaryError('ERR_AUTH', "only a stream's own files are served");
    check(name, query, req.socket.remoteAddress ?? '');
  } catch (err) {
    return sendError(res, statusOf(err), describeError(err));
  }
  // Per-viewer credentials: no shared cache may keep the answer for someone else.
  const cache = 'private, no-cache';
  if (extname(urlPath).toLowerCase() !== '.m3u8' || query === '') {
    return serveStatic(req, res, root, urlPath, cache);
  }
  const inside = resolveInside(root, urlPath);
  const file = inside && (await realPathInside(root, inside));
  let text: string;
  try {
    if (!file) throw new Error('not found');
    text = playlistWithQuery(await readFile(file, 'utf8'), query);
  } catch {
    return sendError(res, 404, 'not found');
  }
  res.writeHead(200, {
    ...CORS_HEADERS,
    'Content-Type': 'application/vnd.apple.mpegurl',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': cache,
  });
  res.end(req.method === 'HEAD' ? undefined : text);
}
