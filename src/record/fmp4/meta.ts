/**
 * What players need besides the segments: `meta.json` in output_merge/ and output_separate/
 * (codec strings, the MIME type an MSE SourceBuffer is opened with, sizes, duration, the segment
 * list) and output_separate's master playlist, which ties video.m3u8 and audio.m3u8 together
 * (RFC 8216 4.3.4.1 EXT-X-MEDIA audio group) so one URL plays the separate tracks. Pure: values in,
 * text out.
 */
import { trackCodecString as codecString } from '../../codecs/codec-string.js';
import { renderMasterPlaylist, type VariantStream } from '../../formats/m3u8/playlist.js';
import type { AudioTrack, VideoTrack } from '../../media/track.js';
import { type ListedSegment, OUTPUTS, type OutputLayout } from './layout.js';

export const META_FILE = 'meta.json';
/** output_separate/index.m3u8 (CONTRACT.md: "a master index.m3u8"). */
export const MASTER_PLAYLIST = 'index.m3u8';
const AUDIO_GROUP = 'audio';

export interface RecordingTracks {
  video?: VideoTrack;
  audio?: AudioTrack;
}

/** Per output, the segments listed so far and their sizes. */
export type Listings = Record<OutputLayout['name'], readonly ListedSegment[]>;

const layout = (name: OutputLayout['name']) => OUTPUTS.find((o) => o.name === name)!;

/** `video/mp4; codecs="avc1.640028, mp4a.40.2"` (RFC 6381 3.1; the codecs the track strings name). */
function mimeType(base: 'video/mp4' | 'audio/mp4', codecs: (string | undefined)[]): string {
  const known = codecs.filter((c): c is string => c !== undefined);
  return known.length > 0 ? `${base}; codecs="${known.join(', ')}"` : base;
}

/** Seconds to the millisecond, as EXTINF shows them. */
const ms = (s: number) => Math.round(s * 1000) / 1000;

function seconds(list: readonly ListedSegment[]): number {
  return ms(list.reduce((s, x) => s + x.seconds, 0));
}

function segments(list: readonly ListedSegment[]) {
  return list.map((s) => ({ uri: s.uri, duration: ms(s.seconds) }));
}

function videoInfo(v: VideoTrack) {
  return { codec: codecString(v) ?? null, width: v.width, height: v.height };
}

function audioInfo(a: AudioTrack) {
  return { codec: codecString(a) ?? null, sampleRate: a.sampleRate, channels: a.channels };
}

/** output_merge/meta.json. `full`: the complete MP4's name, once it is written. */
export function mergedMeta(tracks: RecordingTracks, listed: Listings, ended: boolean, full?: string): object {
  const codecs = [tracks.video && codecString(tracks.video), tracks.audio && codecString(tracks.audio)];
  const merged = layout('merged');
  return {
    mimeType: mimeType(tracks.video ? 'video/mp4' : 'audio/mp4', codecs),
    init: merged.init,
    playlist: merged.playlist,
    ...(tracks.video ? { video: videoInfo(tracks.video) } : {}),
    ...(tracks.audio ? { audio: audioInfo(tracks.audio) } : {}),
    duration: seconds(listed.merged),
    segments: segments(listed.merged),
    ended,
    ...(full ? { full } : {}),
  };
}

/** output_separate/meta.json: one entry per track, each with what its own SourceBuffer needs. */
export function separateMeta(tracks: RecordingTracks, listed: Listings, ended: boolean): object {
  const v = tracks.video;
  const a = tracks.audio;
  const codecs = [v && codecString(v), a && codecString(a)];
  const track = (name: 'video' | 'audio') => ({
    init: layout(name).init,
    playlist: layout(name).playlist,
    segments: segments(listed[name]),
  });
  return {
    mimeType: mimeType(v ? 'video/mp4' : 'audio/mp4', codecs),
    playlist: MASTER_PLAYLIST,
    ...(v
      ? { video: { ...videoInfo(v), mimeType: mimeType('video/mp4', [codecString(v)]), ...track('video') } }
      : {}),
    ...(a
      ? { audio: { ...audioInfo(a), mimeType: mimeType('audio/mp4', [codecString(a)]), ...track('audio') } }
      : {}),
    duration: Math.max(seconds(listed.video), seconds(listed.audio)),
    ended,
  };
}

/** Peak bits per second over the segments (RFC 8216 4.3.4.2 BANDWIDTH), 0 before the first. */
function peak(list: readonly ListedSegment[]): number {
  let max = 0;
  for (const s of list)
    if (s.bytes !== undefined && s.seconds > 0) max = Math.max(max, (s.bytes * 8) / s.seconds);
  return Math.ceil(max);
}

/**
 * output_separate/index.m3u8: video.m3u8 as the variant with audio.m3u8 as its audio rendition
 * (EXT-X-MEDIA TYPE=AUDIO, 4.3.4.1), or the one playlist there is for a single-track stream.
 */
export function separateMaster(tracks: RecordingTracks, listed: Listings): string {
  const v = tracks.video;
  const a = tracks.audio;
  const codecs = [v && codecString(v), a && codecString(a)].filter((c): c is string => c !== undefined);
  const variant: VariantStream = {
    uri: layout(v ? 'video' : 'audio').playlist,
    bandwidth: (v ? peak(listed.video) : 0) + (a ? peak(listed.audio) : 0),
    codecs,
    ...(v && v.width > 0 ? { resolution: { width: v.width, height: v.height } } : {}),
    ...(v && a ? { audio: AUDIO_GROUP } : {}),
  };
  return renderMasterPlaylist({
    version: 6,
    independentSegments: true,
    media:
      v && a
        ? [
            {
              type: 'AUDIO',
              groupId: AUDIO_GROUP,
              name: 'audio',
              default: true,
              autoselect: true,
              uri: layout('audio').playlist,
            },
          ]
        : [],
    variants: [variant],
  });
}
