/**
 * Durations and codec strings of recorded files, for /api/recordings, from a few small reads per
 * file: the last FLV tag's timestamp, the MP4 mvhd, a playlist's EXTINF sum, an init segment's
 * sample entries. Answers are cached by (path, size, mtime), so a dashboard that refreshes every
 * few seconds reads a finished file once and a growing one once per change.
 */
import { open, readFile } from 'node:fs/promises';
import { trackCodecString } from '../../codecs/codec-string.js';
import { FLV_HEADER_SIZE, PREVIOUS_TAG_SIZE_SIZE } from '../../formats/flv/header.js';
import { FLV_TAG_HEADER_SIZE, FlvTagType } from '../../formats/flv/tag.js';
import { parseMediaPlaylist } from '../../formats/m3u8/parse-playlist.js';
import { bufferReader, Mp4Demuxer, type RandomAccessReader } from '../../formats/mp4/demuxer.js';
// The mvhd reader lives with the pusher, its first user; it is pure code over a reader.
import { readMp4DurationMs } from '../../pusher/mp4-duration.js';

export interface FileStamp {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

export interface PlaylistSummary {
  durationSeconds: number;
  segments: number;
  ended: boolean;
  /** The segment URIs as listed. */
  uris: string[];
}

/** An init segment larger than this is not one of ours: no codec strings for it. */
const MAX_INIT_BYTES = 1024 * 1024;
const MAX_PLAYLIST_BYTES = 4 * 1024 * 1024;
/** Entries are dropped once this many are cached (a data dir with more files is re-read). */
const MAX_CACHE = 4096;

/** The 32-bit timestamp of the FLV tag header in `h` (UI24 + TimestampExtended, E.4.1). */
export function flvTagTimestamp(h: Buffer): number {
  return ((h[7]! << 24) | h.readUIntBE(4, 3)) >>> 0;
}

/** Whether `h` is a plausible tag header of `tagSize` bytes in all (header + body). */
function isTagHeader(h: Buffer, tagSize: number): boolean {
  const type = h[0]! & 0x1f;
  const known = type === FlvTagType.Audio || type === FlvTagType.Video || type === FlvTagType.Script;
  return known && h.readUIntBE(1, 3) + FLV_TAG_HEADER_SIZE === tagSize;
}

export class MediaProbe {
  private readonly cache = new Map<string, { key: string; value: unknown }>();

  /** Span of an FLV file from its first to its last tag timestamp, s; null if unreadable. */
  flvDurationSeconds(f: FileStamp): Promise<number | null> {
    return this.cached('flv', f, async () => {
      const fh = await open(f.path, 'r');
      try {
        const read = async (at: number, n: number) => {
          const b = Buffer.alloc(n);
          const { bytesRead } = await fh.read(b, 0, n, at);
          return b.subarray(0, bytesRead);
        };
        const first = FLV_HEADER_SIZE + PREVIOUS_TAG_SIZE_SIZE;
        const head = await read(first, FLV_TAG_HEADER_SIZE);
        if (head.length < FLV_TAG_HEADER_SIZE) return null;
        // The last PreviousTagSize (E.3) gives the last whole tag. A file still being written
        // may end mid-tag: then the check below fails and the duration is unknown for now.
        const prev = (await read(f.size - PREVIOUS_TAG_SIZE_SIZE, 4)).readUInt32BE(0);
        const at = f.size - PREVIOUS_TAG_SIZE_SIZE - prev;
        if (prev < FLV_TAG_HEADER_SIZE || at < first) return null;
        const last = await read(at, FLV_TAG_HEADER_SIZE);
        if (last.length < FLV_TAG_HEADER_SIZE || !isTagHeader(last, prev)) return null;
        return Math.max(0, flvTagTimestamp(last) - flvTagTimestamp(head)) / 1000;
      } finally {
        await fh.close();
      }
    });
  }

  /** The duration an MP4's mvhd announces, s; null when it has none. */
  mp4DurationSeconds(f: FileStamp): Promise<number | null> {
    return this.cached('mp4', f, async () => {
      const fh = await open(f.path, 'r');
      try {
        const reader: RandomAccessReader = {
          size: f.size,
          read: async (offset, length) => {
            const b = Buffer.alloc(Math.max(0, Math.min(length, f.size - offset)));
            const { bytesRead } = await fh.read(b, 0, b.length, offset);
            return b.subarray(0, bytesRead);
          },
        };
        const ms = await readMp4DurationMs(reader);
        return ms === undefined ? null : ms / 1000;
      } finally {
        await fh.close();
      }
    });
  }

  /** The RFC 6381 codec strings of an init segment's tracks (video first). */
  async initCodecs(f: FileStamp): Promise<string[]> {
    const codecs = await this.cached('init', f, async () => {
      if (f.size > MAX_INIT_BYTES) return [];
      const demuxer = await Mp4Demuxer.open(bufferReader(await readFile(f.path)));
      return demuxer.tracks
        .map((t) => t.track)
        .sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'video' ? -1 : 1))
        .map(trackCodecString)
        .filter((c): c is string => c !== undefined);
    });
    return codecs ?? [];
  }

  /** A media playlist's length and state; null when it is not one. */
  playlist(f: FileStamp): Promise<PlaylistSummary | null> {
    return this.cached('m3u8', f, async () => {
      if (f.size > MAX_PLAYLIST_BYTES) return null;
      const p = parseMediaPlaylist(await readFile(f.path, 'utf8'));
      const seconds = p.segments.reduce((sum, s) => sum + s.duration, 0);
      return {
        durationSeconds: Math.round(seconds * 1000) / 1000,
        segments: p.segments.length,
        ended: p.ended,
        uris: p.segments.map((s) => s.uri),
      };
    });
  }

  /** `compute` once per version of the file; a file that cannot be read gives the fallback. */
  private async cached<T>(kind: string, f: FileStamp, compute: () => Promise<T>): Promise<T | null> {
    const id = `${kind}:${f.path}`;
    const key = `${f.size}:${f.mtimeMs}`;
    const hit = this.cache.get(id);
    if (hit && hit.key === key) return hit.value as T;
    let value: T | null;
    try {
      value = await compute();
    } catch {
      // Malformed, or replaced while it was read: unknown for now, tried again when it changes.
      value = null;
    }
    if (this.cache.size >= MAX_CACHE) this.cache.clear();
    this.cache.set(id, { key, value });
    return value;
  }
}
