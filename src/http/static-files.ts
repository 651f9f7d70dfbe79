/**
 * Static files for the origin's web port, the pages and the file gateway, from one place: the
 * traversal guard, GET/HEAD with a single Range (RFC 9110 14), conditional requests (13), the
 * content types, the cache policy (cache-policy.ts), and for the gateway directories (index.html,
 * a listing) and the shared in-memory copy of hot small files (file-cache.ts).
 */
import { createReadStream, type Stats } from 'node:fs';
import { type FileHandle, open, realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, resolve, sep } from 'node:path';
import { cacheControlFor } from './cache-policy.js';
import { sendListing } from './dir-listing.js';
import { type FileCache, fileIdentity } from './file-cache.js';
import type { FileLease } from './open-files.js';
import { CORS_HEADERS, noteBodyLength, sendError } from './respond.js';
import { sendBlocks } from './send-blocks.js';

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

/** open(2)'s answers when the process (EMFILE) or the system (ENFILE) has no file left. */
const OUT_OF_FILES = new Set(['EMFILE', 'ENFILE']);

/**
 * Resolves a URL path inside `root`, or undefined when it would leave it (`..`, encoded
 * separators, NUL): the traversal guard every static route goes through.
 */
export function resolveInside(root: string, urlPath: string): string | undefined {
  // A separator in a name is never a real file's name: an encoded one only hides a path.
  if (/%(?:2f|5c)/i.test(urlPath)) return undefined;
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

/**
 * The real path of `file` (every symlink resolved) when it lies inside the real path of `root`,
 * else undefined (also when it does not exist). A symlink in the data directory may point
 * within it (an alias), never out of it: `flv/evil -> /etc` must not serve /etc/passwd.
 */
export async function realPathInside(root: string, file: string): Promise<string | undefined> {
  try {
    const [realRoot, real] = await Promise.all([realpath(root), realpath(file)]);
    return real === realRoot || real.startsWith(realRoot + sep) ? real : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether an If-None-Match field value (RFC 9110 13.1.2) matches the current `etag`: `*` matches
 * any current representation; otherwise a comma-separated list of entity tags, compared weakly
 * (8.8.3.2: `W/"x"` and `"x"` match), as the method is GET or HEAD.
 */
export function ifNoneMatchHits(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  const mine = opaque(etag);
  // An entity tag is a quoted string without commas inside (8.8.3: etagc excludes '"', and our
  // tags are hex), so splitting on commas is exact.
  return header.split(',').some((t) => opaque(t) === mine);
}

/**
 * Whether an If-Range precondition holds (RFC 9110 13.1.5), i.e. the client's partial copy is
 * of this version and the Range may be served. An entity tag must match strongly (a weak tag
 * never does); a date only when it equals Last-Modified and that is a strong validator, i.e. at
 * least a second older than now (8.8.2.2: a file changed twice within one second shows one
 * date). When it does not hold the whole file is sent with 200: answering the range would let
 * the client splice bytes of two versions together. Browsers' HTTP caches do exactly that with a
 * live playlist rewritten under the same URL, and Chromium's own HLS player then read a playlist
 * that listed a segment twice.
 */
export function ifRangeHolds(header: string, etag: string, mtimeMs: number, now = Date.now()): boolean {
  const value = header.trim();
  if (value.startsWith('"') || value.startsWith('W/')) return value === etag && !etag.startsWith('W/');
  const date = Date.parse(value);
  if (Number.isNaN(date)) return false;
  const modified = Math.floor(mtimeMs / 1000) * 1000;
  return date === modified && now - mtimeMs >= 1000;
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

/** What a directory URL answers: 404 (the origin), its index.html or 403, or a listing too. */
export type DirectoryMode = 'none' | 'index' | 'list';

export interface StaticOptions {
  /** Cache-Control instead of the one the path implies (pages: revalidate every time). */
  readonly cache?: string;
  /** Keep small files in memory, and resolved paths for a short while (the file gateway). */
  readonly files?: FileCache;
  readonly directories?: DirectoryMode;
}

/** Kept in memory when small: media segments, init segments and playlists, written whole. */
const CACHED_TYPES = new Set(['.ts', '.m4s', '.m3u8', '.mp4', '.m4a', '.m4v']);

/** What a URL path names under the root. */
type Target =
  | { readonly kind: 'bad' }
  | { readonly kind: 'missing' }
  | { readonly kind: 'dir' }
  | {
      readonly kind: 'file';
      readonly file: string;
      readonly ext: string;
      readonly info: Stats;
      readonly cacheControl: string;
    };

async function locate(root: string, urlPath: string, cache: string | undefined): Promise<Target> {
  const inside = resolveInside(root, urlPath);
  // `..`, `.`, encoded separators, NUL, undecodable escapes: no client sends these for a real file.
  if (!inside) return { kind: 'bad' };
  // Served from its real path, so what was checked is what is read.
  const file = await realPathInside(root, inside);
  if (!file) return { kind: 'missing' };
  let info: Stats;
  try {
    info = await stat(file);
  } catch {
    return { kind: 'missing' };
  }
  if (info.isDirectory()) return { kind: 'dir' };
  if (!info.isFile()) return { kind: 'missing' };
  // The name asked for decides the type, not the name a symlink points to.
  const ext = extname(inside).toLowerCase();
  const cacheControl =
    cache ?? (await cacheControlFor(root, relative(resolve(root), inside).split(sep), inside));
  return { kind: 'file', file, ext, info, cacheControl };
}

/**
 * Serves one file under `root` with Range, conditional GET (ETag / Last-Modified), MIME and
 * cache headers. 404 for a path that tries to leave `root` and for anything missing or outside
 * it (symlinks resolved); a directory as `options.directories` says.
 */
export async function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  urlPath: string,
  /** A Cache-Control override (the pages), or the options. */
  options: string | StaticOptions = {},
): Promise<void> {
  const opts: StaticOptions = typeof options === 'string' ? { cache: options } : options;
  const target = await find(root, urlPath, opts);
  switch (target.kind) {
    case 'bad':
      // As for a missing file: the answer says nothing about what lies outside the root (and
      // the origin has always answered these 404).
      return sendError(res, 404, 'not found');
    case 'missing':
      return sendError(res, 404, 'not found');
    case 'dir':
      return serveDirectory(req, res, root, urlPath, opts);
    case 'file':
      return sendFile(req, res, target, opts.files);
  }
}

function find(root: string, urlPath: string, opts: StaticOptions): Promise<Target> {
  const look = () => locate(root, urlPath, opts.cache);
  return opts.files ? opts.files.lookup(`${root}\0${urlPath}`, look) : look();
}

async function serveDirectory(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  urlPath: string,
  opts: StaticOptions,
): Promise<void> {
  const mode = opts.directories ?? 'none';
  if (mode === 'none') return sendError(res, 404, 'not found');
  if (!urlPath.endsWith('/')) {
    // Relative links in an index.html or a listing resolve against the directory only with the
    // slash (RFC 3986 5.2.3), so the directory's URL is the one with it.
    const query = (req.url ?? '').slice(urlPath.length);
    res.writeHead(301, { ...CORS_HEADERS, Location: `${urlPath}/${query}`, 'Content-Length': 0 });
    res.end();
    return;
  }
  const index = await find(root, `${urlPath}index.html`, opts);
  if (index.kind === 'file') return sendFile(req, res, index, opts.files);
  if (mode === 'index') return sendError(res, 403, 'directory listing is off (--dir turns it on)');
  const dir = resolveInside(root, urlPath);
  if (!dir) return sendError(res, 404, 'not found');
  return sendListing(req, res, dir, urlPath);
}

async function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  target: Extract<Target, { kind: 'file' }>,
  files: FileCache | undefined,
): Promise<void> {
  const { file, ext } = target;
  // The headers describe the bytes sent: the in-memory copy's own stat, the lookup's stat of the
  // inode a shared handle holds (open-files.ts: the same inode, and each response reads only
  // the bytes its stat names), or that of the file opened here (a playlist replaced by a rename
  // since the lookup must not get the old length).
  const cached =
    files && CACHED_TYPES.has(ext) && files.fits(target.info.size)
      ? await files.read(file, target.info)
      : undefined;
  let info = cached?.info ?? target.info;
  let lease: FileLease | undefined;
  let handle: FileHandle | undefined;
  if (!cached && files && info.size > 0) lease = await files.openFiles.acquire(file, info);
  if (!cached && !lease) {
    try {
      handle = await open(file, 'r');
      info = await handle.stat();
    } catch (err) {
      await handle?.close().catch(() => {});
      // The process's open-file limit (each connection is one): the file is there, the server
      // is full for now. RFC 9110 15.6.4, as a full port answers; a 404 would tell a player
      // (or a cache in front) that the recording is gone.
      if (OUT_OF_FILES.has((err as NodeJS.ErrnoException).code ?? '')) {
        return sendError(res, 503, 'ERR_LIMIT: too many open files, try again');
      }
      return sendError(res, 404, 'not found');
    }
  }
  const done = (status: number, headers: (string | number)[], body?: Buffer) => {
    lease?.release();
    handle?.close().catch(() => {});
    res.writeHead(status, headers);
    res.end(body);
  };
  const { etag, lastModified } = describe(info);
  // A flat [name, value, …] list given to writeHead whole: node:http's fast path, with no
  // per-header setHeader (measured: building and setting these headers one by one was ~15 % of
  // the gateway's CPU serving cached segments). The access log reads the length from respond.ts.
  const headers: (string | number)[] = [
    ...CORS_FLAT,
    'Content-Type',
    MIME[ext] ?? 'application/octet-stream',
    'Accept-Ranges',
    'bytes',
    'Cache-Control',
    target.cacheControl,
    'ETag',
    etag,
    'Last-Modified',
    lastModified,
  ];
  const inm = req.headers['if-none-match'];
  const ims = req.headers['if-modified-since'];
  // 13.2.2: If-None-Match decides when present; If-Modified-Since only without it.
  const notModified =
    inm !== undefined
      ? ifNoneMatchHits(inm, etag)
      : ims !== undefined && Math.floor(info.mtimeMs / 1000) <= Math.floor(Date.parse(ims) / 1000);
  if (notModified) return done(304, headers);
  let start = 0;
  let end = info.size - 1;
  let status = 200;
  const ifRange = req.headers['if-range'];
  const range =
    req.headers.range &&
    (ifRange === undefined || (typeof ifRange === 'string' && ifRangeHolds(ifRange, etag, info.mtimeMs)))
      ? parseRange(req.headers.range, info.size)
      : undefined;
  if (range === 'invalid') {
    headers.push('Content-Range', `bytes */${info.size}`);
    return done(416, headers);
  }
  if (range) {
    ({ start, end } = range);
    status = 206;
    headers.push('Content-Range', `bytes ${start}-${end}/${info.size}`);
  }
  const length = info.size === 0 ? 0 : end - start + 1;
  headers.push('Content-Length', length);
  noteBodyLength(res, length);
  if (req.method === 'HEAD' || info.size === 0) return done(status, headers);
  // One shared Buffer for every viewer; a slice is a view, not a copy.
  if (cached) return done(status, headers, cached.data.subarray(start, end + 1));
  res.writeHead(status, headers);
  if (lease && files) {
    const shared = lease;
    const identity = fileIdentity(info);
    const size = info.size;
    const blocks = files.blocks;
    // Released when the last block is handed to the socket or the response is gone (what is
    // still queued on the socket is in memory: the handle is not needed for it).
    return sendBlocks(
      res,
      (i) => blocks.get(shared.handle, identity, size, i),
      blocks.blockBytes,
      start,
      end,
    ).finally(() => shared.release());
  }
  // pipe() waits for 'drain': at most the stream's 64 KiB buffer per download beyond the socket.
  const stream = createReadStream(file, { fd: handle, start, end });
  stream.on('error', () => res.destroy());
  res.on('close', () => stream.destroy());
  stream.pipe(res);
}

/** What the validators of one version of a file are (RFC 9110 8.8), computed once per stat. */
interface Validators {
  readonly etag: string;
  readonly lastModified: string;
}

/**
 * Keyed by the Stats object: the in-memory copy and the path lookups keep theirs for many
 * requests, so the ETag and the HTTP-date are formatted once per version, not per request.
 */
const validators = new WeakMap<Stats, Validators>();

function describe(info: Stats): Validators {
  let v = validators.get(info);
  if (!v) {
    v = {
      etag: `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`,
      lastModified: new Date(info.mtimeMs).toUTCString(),
    };
    validators.set(info, v);
  }
  return v;
}

const CORS_FLAT: readonly string[] = Object.entries(CORS_HEADERS).flat();
