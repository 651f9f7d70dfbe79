import { EstuaryError } from '../errors.js';

/** CONTRACT.md "Stream names": `{app}/{stream}`, each 1–64 characters of [A-Za-z0-9_-]. */
const PART = /^[A-Za-z0-9_-]{1,64}$/;

export interface StreamName {
  readonly app: string;
  readonly stream: string;
  /** `app/stream`, the hub key. */
  readonly path: string;
}

export function makeStreamName(app: string, stream: string): StreamName {
  if (!PART.test(app) || !PART.test(stream)) {
    const shown = `${app}/${stream}`.slice(0, 140);
    throw new EstuaryError(
      'ERR_STREAM_NAME',
      `stream name "${shown}" is not valid: expected {app}/{stream}, each 1-64 characters of [A-Za-z0-9_-]`,
    );
  }
  return { app, stream, path: `${app}/${stream}` };
}

/**
 * Parses `app/stream` (a leading slash and a query string are allowed and ignored; the query
 * carries credentials and is never part of the name).
 */
export function parseStreamPath(raw: string, suffix = ''): StreamName {
  const noQuery = raw.split('?', 1)[0] ?? '';
  let path = noQuery.startsWith('/') ? noQuery.slice(1) : noQuery;
  if (suffix) {
    if (!path.endsWith(suffix)) {
      throw new EstuaryError('ERR_STREAM_NAME', `path "${path.slice(0, 140)}" does not end with ${suffix}`);
    }
    path = path.slice(0, -suffix.length);
  }
  const parts = path.split('/');
  if (parts.length !== 2) {
    throw new EstuaryError(
      'ERR_STREAM_NAME',
      `path "${path.slice(0, 140)}" is not {app}/{stream} (each 1-64 characters of [A-Za-z0-9_-])`,
    );
  }
  return makeStreamName(parts[0]!, parts[1]!);
}
