import { type ServerResponse, STATUS_CODES } from 'node:http';
import { type ErrorCode, EstuaryError } from '../errors.js';

/** CORS headers for the live port: browser players (mpegts.js) fetch HTTP-FLV from other origins. */
export const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
  'Access-Control-Allow-Headers': '*',
} as const;

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  ERR_STREAM_NAME: 400,
  ERR_STREAM_BUSY: 409,
  ERR_AUTH: 403,
  // RFC 9110 15.5.2: no credentials given (403 above: the ones given are not good).
  ERR_AUTH_REQUIRED: 401,
  ERR_FLV_FORMAT: 400,
  ERR_CODEC_UNSUPPORTED: 415,
  ERR_CODEC_CONFIG: 400,
  ERR_STREAM_NOT_FOUND: 404,
  ERR_UPSTREAM: 502,
  // RFC 5842 7.2
  ERR_EDGE_LOOP: 508,
  ERR_PLAY_OPTION: 400,
  ERR_METHOD_NOT_ALLOWED: 405,
  // RFC 9110 15.6.4: the server is full for now, not broken
  ERR_LIMIT: 503,
};

/**
 * The body length of a response whose headers went to writeHead as a list (node:http keeps
 * none of them for getHeader then): the access log's byte count.
 */
const bodyLengths = new WeakMap<ServerResponse, number>();

export function noteBodyLength(res: ServerResponse, length: number): void {
  bodyLengths.set(res, length);
}

export function bodyLengthOf(res: ServerResponse): number | undefined {
  return bodyLengths.get(res);
}

/** A plain-text error reply (if nothing was sent yet): `CODE: message`. */
export function sendError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) return;
  const body = `${message}\n`;
  // Content-Length through setHeader, where the access log can read it.
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.writeHead(status, { ...CORS_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}

/** The HTTP status for an error thrown while serving a request. */
export function statusOf(err: unknown): number {
  return err instanceof EstuaryError ? (STATUS_OF[err.code] ?? 400) : 500;
}

/** A JSON reply (never cached: API answers describe now). */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    ...CORS_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-cache',
  });
  res.end(isHeadRequest(res) ? undefined : body);
}

/** A JSON error reply: `{"error": {"code", "message"}}`, the code from the catalogue (errors.ts). */
export function sendJsonError(res: ServerResponse, status: number, code: ErrorCode, message: string): void {
  if (res.headersSent) return;
  sendJson(res, status, { error: { code, message } });
}

/** The router's own answers (404, 405, 500) as JSON errors, for the JSON API (Router.errorsAs). */
export function sendRouterJsonError(res: ServerResponse, status: number, message: string): void {
  const code: ErrorCode =
    status === 404 ? 'ERR_NOT_FOUND' : status === 405 ? 'ERR_METHOD_NOT_ALLOWED' : 'ERR_INTERNAL';
  sendJsonError(res, status, code, message);
}

function isHeadRequest(res: ServerResponse): boolean {
  return res.req?.method === 'HEAD';
}

/**
 * A whole plain-text reply as raw bytes, for a socket node:http has handed over or given up on
 * (a refused WebSocket upgrade, an unparsable request): RFC 9110 15.5, then the connection closes.
 */
export function rawReply(status: number, message: string, headers: Record<string, string> = {}): string {
  const body = `${message}\n`;
  const head = Object.entries({
    ...CORS_HEADERS,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
    ...headers,
  })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n${body}`;
}
