import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { CORS_HEADERS, sendError } from './respond.js';

const MIME: Record<string, string> = {
  '.flv': 'video/x-flv',
  '.mp4': 'video/mp4',
  '.m4s': 'video/iso.segment',
  '.m4a': 'audio/mp4',
  '.m4v': 'video/mp4',
  '.ts': 'video/mp2t',
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Playlists change while a stream is live: never cache them. Everything else a recorder writes is
 * written once under its final name (atomic rename), so it may be cached; a CDN or nginx in
 * front can rely on that.
 */
function cacheControl(ext: string): string {
  return ext === '.m3u8' || ext === '.html' || ext === '.json' ? 'no-cache' : 'public, max-age=3600';
}

/**
 * Resolves a URL path inside `root`, or undefined when it would leave it (`..`, encoded
 * separators, NUL): the traversal guard every static route goes through.
 */
export function resolveInside(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const parts = decoded.split('/').filter((p) => p.length > 0);
  if (parts.some((p) => p === '..' || p === '.')) return undefined;
  const base = resolve(root);
  const full = resolve(join(base, ...parts));
  return full === base || full.startsWith(base + sep) ? full : undefined;
}

/** `bytes=a-b` / `bytes=a-` / `bytes=-n` (one range; RFC 9110 14.2). */
export function parseRange(
  header: string,
  size: number,
): { start: number; end: number } | 'invalid' | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined; // multiple or odd ranges: serve the whole file, as RFC 9110 allows
  const [, a, b] = m;
  if (a === '' && b === '') return 'invalid';
  let start: number;
  let end: number;
  if (a === '') {
    start = Math.max(0, size - Number(b));
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start > end || start >= size) return 'invalid';
  return { start, end };
}

/**
 * Serves one file under `root` with Range, conditional GET (ETag / Last-Modified), MIME and
 * cache headers. Answers 404 for anything missing or outside `root`.
 */
export async function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  urlPath: string,
  /** Cache-Control instead of the one the extension implies (pages: revalidate every time). */
  cache?: string,
): Promise<void> {
  const file = resolveInside(root, urlPath);
  if (!file) return sendError(res, 404, 'not found');
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(file);
  } catch {
    return sendError(res, 404, 'not found');
  }
  if (!info.isFile()) return sendError(res, 404, 'not found');
  const ext = extname(file).toLowerCase();
  const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const headers: Record<string, string | number> = {
    ...CORS_HEADERS,
    'Content-Type': MIME[ext] ?? 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    'Cache-Control': cache ?? cacheControl(ext),
    ETag: etag,
    'Last-Modified': info.mtime.toUTCString(),
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  let start = 0;
  let end = info.size - 1;
  let status = 200;
  const range = req.headers.range ? parseRange(req.headers.range, info.size) : undefined;
  if (range === 'invalid') {
    res.writeHead(416, { ...headers, 'Content-Range': `bytes */${info.size}` });
    res.end();
    return;
  }
  if (range) {
    ({ start, end } = range);
    status = 206;
    headers['Content-Range'] = `bytes ${start}-${end}/${info.size}`;
  }
  headers['Content-Length'] = info.size === 0 ? 0 : end - start + 1;
  res.writeHead(status, headers);
  if (req.method === 'HEAD' || info.size === 0) {
    res.end();
    return;
  }
  const stream = createReadStream(file, { start, end });
  stream.on('error', () => res.destroy());
  res.on('close', () => stream.destroy());
  stream.pipe(res);
}
