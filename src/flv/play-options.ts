/**
 * The seed's per-viewer switches on every FLV play URL (HTTP-FLV and WS-FLV, origin and edges):
 * `?disableAudio=1`, `?disableVideo=1` and `?disableGop=1`. Pure: a query string in, options out.
 *
 * Each audio/video combination is one more shared output of the stream (flvFanOut), never a
 * per-viewer filter; disableGop changes no bytes, only where the viewer joins (JoinMode).
 */
import type { IncomingMessage } from 'node:http';
import { EstuaryError } from '../errors.js';
import type { AdmissionRequest } from '../hub/admission.js';
import type { JoinMode } from '../hub/fan-out.js';
import type { StreamName } from '../hub/stream-name.js';
import type { SourceRequest } from '../hub/stream-source.js';

export interface PlayOptions {
  readonly audio: boolean;
  readonly video: boolean;
  readonly join: JoinMode;
}

export const DEFAULT_PLAY_OPTIONS: PlayOptions = { audio: true, video: true, join: 'gop' };

/** The query parameters that are ours (the rest, e.g. `sign`, goes upstream untouched). */
const OPTION_KEYS = new Set(['disableAudio', 'disableVideo', 'disableGop']);

/** `1`, `true`, or the bare key (`?disableGop`) turn a switch on; `0` and `false` leave it off. */
function flag(key: string, value: string): boolean {
  if (value === '' || value === '1' || value.toLowerCase() === 'true') return true;
  if (value === '0' || value.toLowerCase() === 'false') return false;
  throw new EstuaryError('ERR_PLAY_OPTION', `${key}=${value.slice(0, 20)}: expected 1 or 0`);
}

/**
 * The options a play URL's query (`?…` or empty) asks for. Throws ERR_PLAY_OPTION for a value
 * that is not 0/1/true/false, and when audio and video are both disabled (nothing to play).
 */
export function parsePlayOptions(query: string): PlayOptions {
  if (query.length <= 1) return DEFAULT_PLAY_OPTIONS;
  let audio = true;
  let video = true;
  let join: JoinMode = 'gop';
  for (const [key, value] of new URLSearchParams(query)) {
    if (key === 'disableAudio') audio = !flag(key, value);
    else if (key === 'disableVideo') video = !flag(key, value);
    else if (key === 'disableGop') join = flag(key, value) ? 'next-keyframe' : 'gop';
  }
  if (!audio && !video) {
    throw new EstuaryError('ERR_PLAY_OPTION', 'disableAudio and disableVideo together leave nothing to play');
  }
  return audio && video && join === 'gop' ? DEFAULT_PLAY_OPTIONS : { audio, video, join };
}

/**
 * The query without our switches, every other parameter byte for byte as the viewer sent it: what
 * an edge passes upstream. Its one pull is shared by viewers of every option set, so it must ask
 * for the whole stream; a signature or key goes on unchanged.
 */
export function upstreamQuery(query: string): string {
  if (query.length <= 1) return '';
  const kept = query
    .slice(1)
    .split('&')
    .filter((part) => {
      const key = part.split('=', 1)[0]!;
      let name = key;
      try {
        name = decodeURIComponent(key.replaceAll('+', ' '));
      } catch {
        // A malformed escape is not one of our keys: keep the part as it is.
      }
      return part !== '' && !OPTION_KEYS.has(name);
    });
  return kept.length === 0 ? '' : `?${kept.join('&')}`;
}

/** The query string of a request URL (`?…`, or empty). */
export function queryOf(url: string | undefined): string {
  const at = url?.indexOf('?') ?? -1;
  return at < 0 ? '' : url!.slice(at);
}

/**
 * What a play passes to the hub's source (an edge's upstream): the query without our switches,
 * and the `Via` chain the request came through (loop detection).
 */
export function sourceRequest(url: string | undefined, via: string | undefined): SourceRequest {
  return { query: upstreamQuery(queryOf(url)), ...(via ? { via } : {}) };
}

/** The admission question for an HTTP-FLV or WS-FLV play. */
export function playRequest(req: IncomingMessage, name: StreamName, protocol: string): AdmissionRequest {
  return {
    action: 'play' as const,
    name,
    query: queryOf(req.url),
    address: req.socket.remoteAddress ?? '',
    protocol,
    clientId: `${req.socket.remoteAddress}:${req.socket.remotePort}`,
    connection: req.socket,
  };
}
