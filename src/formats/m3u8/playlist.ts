/**
 * HLS playlists (RFC 8216) rendered from plain values. Which segments exist, how long they are
 * and when the stream ended are the segmenter's business; this file only writes the text.
 */
import { EstuaryError } from '../../errors.js';

export interface MediaSegmentEntry {
  /** Relative or absolute URI of the segment (4.1: one line, no CR/LF). */
  uri: string;
  /** Seconds. */
  duration: number;
  /** EXT-X-DISCONTINUITY before this segment (4.3.2.3): timestamps or encoding changed. */
  discontinuity?: boolean;
  /** EXT-X-PROGRAM-DATE-TIME (4.3.2.6): the wall-clock time of the segment's first sample. */
  programDateTime?: Date;
}

export interface MediaPlaylist {
  /** EXT-X-VERSION (4.3.1.2); at least 6 with `map`, and below 3 EXTINF durations are integers. */
  version: number;
  /**
   * The configured target duration in seconds. The rendered EXT-X-TARGETDURATION is the larger of
   * this and the longest EXTINF rounded to the nearest integer: 4.3.3.1 bounds each EXTINF *when
   * rounded*, so a keyframe-aligned 2.04 s segment keeps a 2 s target, and the value stays
   * constant as 6.2.1 asks.
   */
  targetDuration?: number;
  /** EXT-X-MEDIA-SEQUENCE (4.3.3.2): the sequence number of the first segment listed. */
  mediaSequence: number;
  /** EXT-X-DISCONTINUITY-SEQUENCE (4.3.3.3); written when given. */
  discontinuitySequence?: number;
  /** EXT-X-PLAYLIST-TYPE (4.3.3.5): EVENT for a live recording kept whole, VOD once final. */
  playlistType?: 'EVENT' | 'VOD';
  /** EXT-X-INDEPENDENT-SEGMENTS (4.3.5.1): every segment starts with a keyframe. */
  independentSegments?: boolean;
  /** EXT-X-MAP (4.3.2.5): the fMP4 initialization section every segment needs. */
  map?: { uri: string };
  segments: readonly MediaSegmentEntry[];
  /** EXT-X-ENDLIST (4.3.3.4): no more segments will be added. */
  ended: boolean;
}

export interface VariantStream {
  uri: string;
  /** Peak bits per second (4.3.4.2, required). */
  bandwidth: number;
  averageBandwidth?: number;
  /** RFC 6381 codec strings, e.g. ['avc1.64001f', 'mp4a.40.2']. */
  codecs?: readonly string[];
  resolution?: { width: number; height: number };
  frameRate?: number;
  /** AUDIO (4.3.4.2): the GROUP-ID of the EXT-X-MEDIA audio renditions that go with it. */
  audio?: string;
}

/** An EXT-X-MEDIA rendition (4.3.4.1), e.g. the audio of variants that carry video only. */
export interface MediaRendition {
  type: 'AUDIO' | 'VIDEO' | 'SUBTITLES';
  groupId: string;
  name: string;
  uri: string;
  default?: boolean;
  autoselect?: boolean;
}

export interface MasterPlaylist {
  version?: number;
  independentSegments?: boolean;
  /** EXT-X-MEDIA tags, written before the variants. */
  media?: readonly MediaRendition[];
  variants: readonly VariantStream[];
}

/**
 * RFC 8216 7: EXT-X-MAP in a playlist without EXT-X-I-FRAMES-ONLY requires version 6. Version 7
 * only adds SERVICE values for INSTREAM-ID, which a media playlist never uses, so 6 is enough and
 * lets the oldest fMP4-capable players in.
 */
const MAP_MIN_VERSION = 6;
/** RFC 8216 7: decimal-floating-point EXTINF durations require version 3. */
const FLOAT_EXTINF_MIN_VERSION = 3;

function fail(message: string): never {
  throw new EstuaryError('ERR_M3U8_FORMAT', message);
}

function checkUri(uri: string): void {
  if (uri.length === 0 || /[\r\n]/.test(uri))
    fail(`segment URI ${JSON.stringify(uri)} is empty or spans lines`);
}

function checkCount(value: number, what: string): void {
  // decimal-integer (4.2): 0 to 2^64-1; JavaScript numbers are exact up to 2^53.
  if (!Number.isSafeInteger(value) || value < 0) fail(`${what} ${value} is not a non-negative integer`);
}

/** Seconds rounded to the milliseconds EXTINF shows, so the target matches what is written. */
function shownDuration(seconds: number, version: number): number {
  return Number(formatDuration(seconds, version));
}

function formatDuration(seconds: number, version: number): string {
  return version >= FLOAT_EXTINF_MIN_VERSION ? seconds.toFixed(3) : String(Math.round(seconds));
}

export function renderMediaPlaylist(p: MediaPlaylist): string {
  checkCount(p.version, 'version');
  if (p.version < 1) fail('version must be at least 1');
  if (p.map && p.version < MAP_MIN_VERSION)
    fail(`EXT-X-MAP needs version ${MAP_MIN_VERSION}, got ${p.version}`);
  checkCount(p.mediaSequence, 'media sequence');
  if (p.discontinuitySequence !== undefined) checkCount(p.discontinuitySequence, 'discontinuity sequence');
  let longest = 0;
  for (const s of p.segments) {
    checkUri(s.uri);
    if (!Number.isFinite(s.duration) || s.duration < 0) fail(`segment ${s.uri} has duration ${s.duration}`);
    longest = Math.max(longest, shownDuration(s.duration, p.version));
  }
  const configured = p.targetDuration ?? 0;
  if (!Number.isFinite(configured) || configured < 0) fail(`target duration ${configured} is invalid`);
  // 4.3.3.1: an integer no less than any EXTINF rounded to the nearest integer; at least 1 so an
  // empty live playlist is valid.
  const target = Math.max(1, Math.round(configured), Math.round(longest));

  const lines = ['#EXTM3U', `#EXT-X-VERSION:${p.version}`, `#EXT-X-TARGETDURATION:${target}`];
  lines.push(`#EXT-X-MEDIA-SEQUENCE:${p.mediaSequence}`);
  if (p.discontinuitySequence !== undefined)
    lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${p.discontinuitySequence}`);
  if (p.playlistType) lines.push(`#EXT-X-PLAYLIST-TYPE:${p.playlistType}`);
  if (p.independentSegments) lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  if (p.map) {
    checkUri(p.map.uri);
    if (p.map.uri.includes('"')) fail('EXT-X-MAP URI cannot contain a double quote (4.2 quoted-string)');
    lines.push(`#EXT-X-MAP:URI="${p.map.uri}"`);
  }
  for (const s of p.segments) {
    if (s.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    if (s.programDateTime) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${s.programDateTime.toISOString()}`);
    lines.push(`#EXTINF:${formatDuration(s.duration, p.version)},`, s.uri);
  }
  if (p.ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

function streamInfAttributes(v: VariantStream): string {
  checkCount(v.bandwidth, 'BANDWIDTH');
  const attrs = [`BANDWIDTH=${v.bandwidth}`];
  if (v.averageBandwidth !== undefined) {
    checkCount(v.averageBandwidth, 'AVERAGE-BANDWIDTH');
    attrs.push(`AVERAGE-BANDWIDTH=${v.averageBandwidth}`);
  }
  if (v.codecs && v.codecs.length > 0) {
    const codecs = v.codecs.join(',');
    if (/["\r\n]/.test(codecs)) fail(`CODECS ${JSON.stringify(codecs)} cannot be a quoted-string`);
    attrs.push(`CODECS="${codecs}"`);
  }
  if (v.resolution) {
    checkCount(v.resolution.width, 'RESOLUTION width');
    checkCount(v.resolution.height, 'RESOLUTION height');
    attrs.push(`RESOLUTION=${v.resolution.width}x${v.resolution.height}`);
  }
  if (v.frameRate !== undefined) {
    if (!Number.isFinite(v.frameRate) || v.frameRate <= 0) fail(`FRAME-RATE ${v.frameRate} is invalid`);
    // 4.3.4.2: decimal-floating-point; Apple's authoring spec rounds to three decimal places.
    attrs.push(`FRAME-RATE=${v.frameRate.toFixed(3)}`);
  }
  if (v.audio !== undefined) attrs.push(`AUDIO=${quoted(v.audio, 'AUDIO')}`);
  return attrs.join(',');
}

/** A quoted-string attribute value (4.2): no double quote, CR or LF inside. */
function quoted(value: string, what: string): string {
  if (/["\r\n]/.test(value)) fail(`${what} ${JSON.stringify(value)} cannot be a quoted-string`);
  return `"${value}"`;
}

function mediaAttributes(m: MediaRendition): string {
  checkUri(m.uri);
  const attrs = [
    `TYPE=${m.type}`,
    `GROUP-ID=${quoted(m.groupId, 'GROUP-ID')}`,
    `NAME=${quoted(m.name, 'NAME')}`,
  ];
  // 4.3.4.1: DEFAULT and AUTOSELECT are enumerated-strings YES/NO.
  if (m.default !== undefined) attrs.push(`DEFAULT=${m.default ? 'YES' : 'NO'}`);
  if (m.autoselect !== undefined) attrs.push(`AUTOSELECT=${m.autoselect ? 'YES' : 'NO'}`);
  attrs.push(`URI=${quoted(m.uri, 'URI')}`);
  return attrs.join(',');
}

/** A master playlist (4.3.4.2): one EXT-X-STREAM-INF + URI pair per variant. */
export function renderMasterPlaylist(p: MasterPlaylist): string {
  const lines = ['#EXTM3U'];
  if (p.version !== undefined) {
    checkCount(p.version, 'version');
    lines.push(`#EXT-X-VERSION:${p.version}`);
  }
  if (p.independentSegments) lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  for (const m of p.media ?? []) lines.push(`#EXT-X-MEDIA:${mediaAttributes(m)}`);
  for (const v of p.variants) {
    checkUri(v.uri);
    lines.push(`#EXT-X-STREAM-INF:${streamInfAttributes(v)}`, v.uri);
  }
  return `${lines.join('\n')}\n`;
}
