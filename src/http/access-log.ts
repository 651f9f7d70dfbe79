/**
 * One line per request in the combined log format (the Apache/nginx default, which log tools
 * read): `host - - [time] "METHOD path HTTP/v" status bytes "referer" "user-agent"`. Query values
 * are masked (`?sign=***`): a query string carries credentials and never reaches a log.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bodyLengthOf } from './respond.js';

export interface AccessLogSink {
  write(line: string): unknown;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `10/Oct/2000:13:55:36 +0000` (the format's time, in UTC). */
export function clfTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** `/a?sign=1-abc&x=2` → `/a?sign=***&x=***`: parameter names stay, values go. */
export function maskQuery(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const masked = url
    .slice(q + 1)
    .split('&')
    .map((kv) => {
      const eq = kv.indexOf('=');
      return eq < 0 ? kv : `${kv.slice(0, eq)}=***`;
    })
    .join('&');
  return `${url.slice(0, q)}?${masked}`;
}

/** Quotes a header value the way the format expects (no raw quotes or control characters). */
function quoted(v: string | string[] | undefined): string {
  const s = Array.isArray(v) ? v.join(', ') : (v ?? '');
  if (s === '') return '"-"';
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\x00-\x1f\x7f]/g, '?')}"`;
}

export function combinedLine(req: IncomingMessage, res: ServerResponse, at: Date): string {
  const host = req.socket.remoteAddress ?? '-';
  const line = `${req.method ?? '-'} ${maskQuery(req.url ?? '/')} HTTP/${req.httpVersion}`;
  const length = res.getHeader('content-length') ?? bodyLengthOf(res);
  const bodyless = req.method === 'HEAD' || res.statusCode === 304 || res.statusCode === 204;
  const bytes = bodyless || length === undefined || Number(length) === 0 ? '-' : String(length);
  return `${host} - - [${clfTime(at)}] ${quoted(line)} ${res.statusCode} ${bytes} ${quoted(req.headers.referer)} ${quoted(req.headers['user-agent'])}\n`;
}

/** Writes the request's line when its response finished (or the client went away). */
export function logAccess(sink: AccessLogSink, req: IncomingMessage, res: ServerResponse): void {
  const at = new Date();
  let done = false;
  const write = () => {
    if (done) return;
    done = true;
    sink.write(combinedLine(req, res, at));
  };
  res.once('finish', write);
  res.once('close', write);
}
