/**
 * Live HLS timing (RFC 8216), kept apart from bytes and files the way hls.js keeps its remuxer
 * apart from its box writer: where a segment starts, how long it lasts, which segments the live
 * playlist lists and when a file that left the playlist may be deleted. Pure: frame times in,
 * decisions out. Times are the stream's integer milliseconds (MediaFrame dts).
 */
import type { MediaPlaylist } from '../../formats/m3u8/playlist.js';

export interface SegmenterOptions {
  /** Target duration, ms: a segment is cut at the first cut point at least this long after it began. */
  readonly targetMs: number;
  /** Segments listed by the live playlist; 0 keeps every segment (an EVENT playlist). */
  readonly window: number;
  /**
   * How long (ms of stream time) a segment stays on disk after it left the playlist. Default: RFC
   * 8216 6.2.2's minimum, the segment's duration plus that of the longest playlist that listed it.
   */
  readonly graceMs?: number;
  /**
   * Payload bytes an open segment may hold before the next frame cuts it even without a keyframe:
   * a source that never sends a keyframe must not grow one segment file without bound.
   */
  readonly maxSegmentBytes?: number;
  /**
   * Keep every segment: those that leave the live window stay on disk (nothing expires) and the
   * ended playlist lists them all, a VOD playlist (4.3.3.5). Without it (`hlsCleanup`) they are
   * deleted after their grace and the ended playlist lists the window.
   */
  readonly keepSegments?: boolean;
  /** The session id for segment names (`segment_{session}_NNNNN.ts`), so no URL is reused. */
  readonly session?: string;
}

export interface FrameTiming {
  readonly kind: 'video' | 'audio';
  readonly dts: number;
  readonly keyframe: boolean;
  /** Payload size, counted toward maxSegmentBytes. */
  readonly bytes: number;
}

export interface SegmentRecord {
  /** Media sequence number (RFC 8216 4.3.3.2), from 0. */
  readonly sequence: number;
  /** File name, also the playlist's relative URI. */
  readonly uri: string;
  readonly startDts: number;
  readonly durationMs: number;
  /** EXT-X-DISCONTINUITY before it (4.3.2.3): the track set or a codec changed. */
  readonly discontinuity: boolean;
}

export interface PushResult {
  /** The frame cannot start the recording (video before its first keyframe): skip it. */
  readonly drop: boolean;
  /** The frame is the first of a new segment: write PAT/PMT before it. */
  readonly startsSegment: boolean;
  /** The segment this frame closed: write it whole, then the playlist that lists it. */
  readonly closed?: SegmentRecord;
  /** Segments whose grace ran out: delete their files once the new playlist is written. */
  readonly expired: readonly SegmentRecord[];
}

interface OpenSegment {
  sequence: number;
  startDts: number;
  discontinuity: boolean;
  bytes: number;
}

interface Retired {
  segment: SegmentRecord;
  /** Stream time at which the file may go. */
  deleteAt: number;
}

/** RFC 8216 7: decimal-floating-point EXTINF durations need version 3. */
const PLAYLIST_VERSION = 3;
const DEFAULT_MAX_SEGMENT_BYTES = 64 * 1024 * 1024;

/** The playlist's file name in the recording folder (CONTRACT.md: `hls/{app}/{stream}/index.m3u8`). */
export const PLAYLIST_NAME = 'index.m3u8';

/** The open segment is written to `{segment}.part` as it grows; the name appears once it is whole. */
export const PART_SUFFIX = '.part';

/**
 * `segment_20250102_030405_00042.ts` (`segment_00042.ts` without a session): zero-padded so a
 * directory listing sorts in playback order; the session id keeps a later session of the same
 * name from ever writing a URL an earlier one wrote, so a cache may keep segments for good.
 */
export function segmentName(sequence: number, session?: string): string {
  const n = String(sequence).padStart(5, '0');
  return session === undefined ? `segment_${n}.ts` : `segment_${session}_${n}.ts`;
}

/** The sequence number in a segment file name, or undefined when the name is not one. */
export function segmentSequence(file: string): number | undefined {
  const m = /^segment_(?:\d{8}_\d{6}(?:-\d+)?_)?(\d{1,9})\.ts$/.exec(file);
  return m ? Number(m[1]) : undefined;
}

function entry(s: SegmentRecord): MediaPlaylist['segments'][number] {
  return { uri: s.uri, duration: s.durationMs / 1000, discontinuity: s.discontinuity };
}

export class HlsSegmenter {
  private readonly listed: SegmentRecord[] = [];
  private readonly retired: Retired[] = [];
  /** keepSegments: the segments that left the window, for the ended VOD playlist. */
  private readonly kept: SegmentRecord[] = [];
  private open: OpenSegment | undefined;
  private nextSequence = 0;
  /** 4.3.3.3: one more for each EXT-X-DISCONTINUITY that left the playlist. */
  private discontinuitySequence = 0;
  private cutOnVideo = false;
  private pendingDiscontinuity = false;
  /** A cut forced without a keyframe makes EXT-X-INDEPENDENT-SEGMENTS untrue from then on. */
  private independent = true;
  private clock = Number.NEGATIVE_INFINITY;
  private readonly last = new Map<'video' | 'audio', { dts: number; delta: number }>();

  constructor(private readonly opts: SegmenterOptions) {}

  /**
   * Which frames may start a segment: video keyframes when the output carries video (each
   * segment then decodes on its own), any frame for audio-only output. With `discontinuity`, the
   * next such frame starts a segment whatever its duration, marked EXT-X-DISCONTINUITY: the
   * caller's TS muxer changed its tracks, which only a new segment's PMT can announce.
   */
  configure(hasVideo: boolean, discontinuity: boolean): void {
    this.cutOnVideo = hasVideo;
    if (discontinuity && this.open) this.pendingDiscontinuity = true;
  }

  get hasOpenSegment(): boolean {
    return this.open !== undefined;
  }

  /** The file name of the open segment (the one the last `startsSegment` began). */
  get openUri(): string | undefined {
    return this.open && segmentName(this.open.sequence, this.opts.session);
  }

  /** Where a frame goes. Call in stream order, before muxing it. */
  push(f: FrameTiming): PushResult {
    this.clock = Math.max(this.clock, f.dts);
    const cutPoint = this.cutOnVideo ? f.kind === 'video' && f.keyframe : true;
    const open = this.open;
    if (!open) {
      // The recording begins at the first frame a decoder can use: not a video delta frame.
      if (f.kind === 'video' && !f.keyframe) return { drop: true, startsSegment: false, expired: [] };
      this.start(f, false);
      return { drop: false, startsSegment: true, expired: this.expire(false) };
    }
    const forced = open.bytes >= (this.opts.maxSegmentBytes ?? DEFAULT_MAX_SEGMENT_BYTES);
    const due = f.dts - open.startDts >= this.opts.targetMs || this.pendingDiscontinuity;
    if ((cutPoint && due) || forced) {
      if (forced && !cutPoint) this.independent = false;
      const closed = this.close(f.dts);
      this.start(f, this.pendingDiscontinuity);
      this.pendingDiscontinuity = false;
      return { drop: false, startsSegment: true, closed, expired: this.expire(false) };
    }
    this.track(f);
    open.bytes += f.bytes;
    return { drop: false, startsSegment: false, expired: this.expire(false) };
  }

  /**
   * The stream ended: closes the last, partial segment and lets every retired segment go, since
   * the final playlist replaces every live one. The segment ends where its last frame of the
   * track that decides cuts ends (estimated from the spacing of the frames before it): video when
   * there is video, as every other segment's duration is measured on it (FFmpeg's hlsenc measures
   * on its reference stream likewise); audio's last frames may run a few ms past it.
   */
  finish(): PushResult {
    let closed: SegmentRecord | undefined;
    if (this.open) {
      let end = this.open.startDts;
      for (const [kind, { dts, delta }] of this.last) {
        if (!this.cutOnVideo || kind === 'video') end = Math.max(end, dts + delta);
      }
      closed = this.close(end);
    }
    return { drop: false, startsSegment: false, closed, expired: this.expire(true) };
  }

  /**
   * The media playlist as of now (4.3.3): the window's segments while live; once ended, with
   * keepSegments (or a window of 0) every segment of the session as a VOD playlist (4.3.3.5).
   */
  playlist(ended: boolean): MediaPlaylist {
    if (ended && (this.opts.keepSegments || this.opts.window === 0)) {
      const all = [...this.kept, ...this.listed];
      return {
        version: PLAYLIST_VERSION,
        targetDuration: this.opts.targetMs / 1000,
        mediaSequence: all[0]?.sequence ?? this.nextSequence,
        discontinuitySequence: 0,
        playlistType: 'VOD',
        independentSegments: this.independent,
        segments: all.map(entry),
        ended: true,
      };
    }
    return {
      version: PLAYLIST_VERSION,
      targetDuration: this.opts.targetMs / 1000,
      mediaSequence: this.listed[0]?.sequence ?? this.nextSequence,
      discontinuitySequence: this.discontinuitySequence,
      // 4.3.3.5: a playlist that only ever grows is an EVENT playlist.
      playlistType: this.opts.window === 0 ? 'EVENT' : undefined,
      independentSegments: this.independent,
      segments: this.listed.map(entry),
      ended,
    };
  }

  private start(f: FrameTiming, discontinuity: boolean): void {
    this.open = { sequence: this.nextSequence++, startDts: f.dts, discontinuity, bytes: f.bytes };
    this.track(f);
  }

  /** Remembers each track's last dts and frame spacing, to estimate where the last frame ends. */
  private track(f: FrameTiming): void {
    const prev = this.last.get(f.kind);
    const delta = prev && f.dts > prev.dts ? f.dts - prev.dts : (prev?.delta ?? 0);
    this.last.set(f.kind, { dts: f.dts, delta });
  }

  private close(endDts: number): SegmentRecord {
    const open = this.open as OpenSegment;
    this.open = undefined;
    const segment: SegmentRecord = {
      sequence: open.sequence,
      uri: segmentName(open.sequence, this.opts.session),
      startDts: open.startDts,
      // A publisher whose clock jumps back must not make a negative EXTINF.
      durationMs: Math.max(0, endDts - open.startDts),
      discontinuity: open.discontinuity,
    };
    this.listed.push(segment);
    const window = this.opts.window;
    while (window > 0 && this.listed.length > window) {
      const playlistMs = this.listed.reduce((sum, s) => sum + s.durationMs, 0);
      const gone = this.listed.shift() as SegmentRecord;
      // 6.2.2: a segment removed from the playlist stays available for its duration plus that of
      // the longest playlist that contained it; the one just before this removal is the longest.
      const graceMs = this.opts.graceMs ?? gone.durationMs + playlistMs;
      if (this.opts.keepSegments) this.kept.push(gone);
      else this.retired.push({ segment: gone, deleteAt: this.clock + graceMs });
      // 4.3.3.3: the discontinuity sequence counts the EXT-X-DISCONTINUITY tags removed.
      if (gone.discontinuity) this.discontinuitySequence++;
    }
    return segment;
  }

  private expire(all: boolean): SegmentRecord[] {
    if (this.retired.length === 0) return [];
    // Default graces differ per segment, so the due ones need not be at the front.
    const due = this.retired.filter((r) => all || r.deleteAt <= this.clock);
    if (due.length === 0) return [];
    const kept = this.retired.filter((r) => !due.includes(r));
    this.retired.splice(0, this.retired.length, ...kept);
    return due.map((r) => r.segment);
  }
}
