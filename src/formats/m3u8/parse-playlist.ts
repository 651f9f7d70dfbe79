/**
 * A small reader for the media playlists Estuary itself writes (RFC 8216 4.3): enough to check
 * them in tests and to pick a recording up again after a restart. Tags it does not know are
 * ignored, as 4.1 requires of clients.
 */
import { EstuaryError } from '../../errors.js';
import type { MediaPlaylist, MediaSegmentEntry } from './playlist.js';

export interface ParsedMediaPlaylist extends MediaPlaylist {
  targetDuration: number;
  discontinuitySequence: number;
  segments: MediaSegmentEntry[];
}

function fail(line: number, message: string): never {
  throw new EstuaryError('ERR_M3U8_FORMAT', `playlist line ${line}: ${message}`);
}

function parseInteger(value: string, line: number, what: string): number {
  // decimal-integer (4.2): digits only.
  if (!/^\d{1,15}$/.test(value)) fail(line, `${what} ${JSON.stringify(value)} is not a decimal-integer`);
  return Number(value);
}

function parseDuration(value: string, line: number): number {
  // EXTINF:<duration>,[<title>] (4.3.2.1); the duration is a decimal-integer or -floating-point.
  const duration = value.split(',', 1)[0];
  if (!/^\d{1,15}(\.\d{1,15})?$/.test(duration)) fail(line, `EXTINF duration ${JSON.stringify(duration)}`);
  return Number(duration);
}

function parseMapUri(value: string, line: number): string {
  const match = /(?:^|,)URI="([^"\r\n]*)"/.exec(value);
  if (!match) fail(line, 'EXT-X-MAP without a URI attribute');
  return match[1];
}

function parseDate(value: string, line: number): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) fail(line, `EXT-X-PROGRAM-DATE-TIME ${JSON.stringify(value)}`);
  return date;
}

export function parseMediaPlaylist(text: string): ParsedMediaPlaylist {
  const lines = text.split(/\r?\n/);
  // 4.3.1.1: the first line must be EXTM3U (a UTF-8 BOM is not allowed, so none is skipped).
  if (lines[0] !== '#EXTM3U') fail(1, 'does not start with #EXTM3U');
  const out: ParsedMediaPlaylist = {
    version: 1,
    targetDuration: 0,
    mediaSequence: 0,
    discontinuitySequence: 0,
    segments: [],
    ended: false,
  };
  let sawTarget = false;
  let pending: Partial<MediaSegmentEntry> = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].trim();
    const n = i + 1;
    if (line === '') continue;
    if (!line.startsWith('#')) {
      if (pending.duration === undefined) fail(n, `URI ${JSON.stringify(line)} without a preceding EXTINF`);
      out.segments.push({ ...pending, uri: line, duration: pending.duration });
      pending = {};
      continue;
    }
    const colon = line.indexOf(':');
    const tag = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1);
    switch (tag) {
      case '#EXT-X-VERSION':
        out.version = parseInteger(value, n, 'version');
        break;
      case '#EXT-X-TARGETDURATION':
        out.targetDuration = parseInteger(value, n, 'target duration');
        sawTarget = true;
        break;
      case '#EXT-X-MEDIA-SEQUENCE':
        out.mediaSequence = parseInteger(value, n, 'media sequence');
        break;
      case '#EXT-X-DISCONTINUITY-SEQUENCE':
        out.discontinuitySequence = parseInteger(value, n, 'discontinuity sequence');
        break;
      case '#EXT-X-PLAYLIST-TYPE':
        if (value !== 'EVENT' && value !== 'VOD') fail(n, `playlist type ${JSON.stringify(value)}`);
        out.playlistType = value;
        break;
      case '#EXT-X-INDEPENDENT-SEGMENTS':
        out.independentSegments = true;
        break;
      case '#EXT-X-MAP':
        out.map = { uri: parseMapUri(value, n) };
        break;
      case '#EXTINF':
        if (pending.duration !== undefined) fail(n, 'two EXTINF tags without a URI between them');
        pending.duration = parseDuration(value, n);
        break;
      case '#EXT-X-DISCONTINUITY':
        pending.discontinuity = true;
        break;
      case '#EXT-X-PROGRAM-DATE-TIME':
        pending.programDateTime = parseDate(value, n);
        break;
      case '#EXT-X-ENDLIST':
        out.ended = true;
        break;
      default:
        break; // comments and tags this reader does not need (4.1)
    }
  }
  if (pending.duration !== undefined) fail(lines.length, 'EXTINF without a URI at the end');
  // 4.3.3.1: EXT-X-TARGETDURATION is required.
  if (!sawTarget) fail(lines.length, 'no EXT-X-TARGETDURATION');
  return out;
}
