/**
 * Where the fMP4 recording cuts its segments: pure timing decisions over MediaFrames, apart from
 * the bytes (fragment-run.ts) and the files (from-stream.ts), as hls.js keeps its remuxer apart
 * from its box writer.
 *
 * - The recording starts on the first video keyframe (audio-only: the first audio frame), so every
 *   segment can start on a random access point (ISO/IEC 23000-19 CMAF 7.3.2.2; RFC 8216 4.3.5.1).
 *   Audio the publisher interleaved just before that keyframe is kept (PREROLL_MS), older audio
 *   (sound without picture) is dropped so both tracks start together.
 * - A segment is cut when a video keyframe arrives at least `targetMs` after the segment's start
 *   (audio-only: any audio frame), so segments are ~ the HLS target duration. A segment that grows
 *   past `maxMs` or `maxBytes` without a keyframe is cut anyway: memory stays bounded.
 * - The tracks are those of the first frames recorded. A track that shows up later is ignored
 *   (the init segment is already written); a track whose configuration changes ends the run: one
 *   init segment and one complete MP4 carry one sample description per track.
 */
import type { MediaFrame } from '../../media/frame.js';
import type { AudioTrack, Track, VideoTrack } from '../../media/track.js';

/** Audio up to this long before the first video keyframe is kept (publishers interleave by a frame or two). */
export const PREROLL_MS = 100;

export interface SegmenterOptions {
  /** Target segment duration, ms (the HLS target duration). */
  targetMs: number;
  /** Cut without a keyframe once a segment spans this long (default 60 s). */
  maxMs?: number;
  /** Cut without a keyframe once a segment holds this many bytes (default 64 MiB). */
  maxBytes?: number;
}

/** Frames to write as one fragment (a CMAF chunk): a whole segment, or the part of one ready now. */
export interface Chunk {
  video: MediaFrame[];
  audio: MediaFrame[];
  /** Per kind, the dts of the frame that follows the chunk's last one, when known (exact last duration). */
  next: { video?: number; audio?: number };
}

export interface Segment extends Chunk {
  /** Frames not yet taken by takeChunk(). */
  video: MediaFrame[];
  audio: MediaFrame[];
  /** dts of the first frame of this segment, ms. */
  startMs: number;
  /** Per kind, the dts of the frame that opens the next segment, when it is known (exact last duration). */
  next: { video?: number; audio?: number };
  /** Cut by the size/duration limit rather than on a keyframe. */
  forced: boolean;
}

export type PushResult =
  | { kind: 'buffered' }
  | { kind: 'segment'; segment: Segment }
  /** Not recorded: before the first keyframe, before the origin, or a track that came too late. */
  | { kind: 'dropped'; why: 'before-start' | 'before-origin' | 'late-track' }
  /** The track's configuration changed: the run is over (the caller flushes and stops). */
  | { kind: 'changed'; track: Track };

/** Two tracks that decode alike: a repeated sequence header is not a change. */
export function sameTrackConfig(a: Track, b: Track): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind || a.codec !== b.codec) return false;
  const configEqual = (a.config ?? Buffer.alloc(0)).equals(b.config ?? Buffer.alloc(0));
  if (a.kind === 'video' && b.kind === 'video')
    return configEqual && a.width === b.width && a.height === b.height;
  if (a.kind === 'audio' && b.kind === 'audio')
    return configEqual && a.sampleRate === b.sampleRate && a.channels === b.channels;
  return false;
}

export class Segmenter {
  /** The tracks recorded; fixed by the first frames, frozen at the first cut. */
  video: VideoTrack | undefined;
  audio: AudioTrack | undefined;
  /** The dts the recording starts at (decode time 0 of every output), once started. */
  originMs: number | undefined;
  private videoExpected = false;
  private audioExpected = false;
  private frozen = false;
  private preroll: MediaFrame[] = [];
  private current: Segment | undefined;
  private bytes = 0;
  private readonly maxMs: number;
  private readonly maxBytes: number;

  constructor(private readonly opts: SegmenterOptions) {
    this.maxMs = opts.maxMs ?? 60_000;
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
  }

  /** A (supported) track was announced: with video on its way, audio waits for its first keyframe. */
  announce(track: Track): void {
    if (track.kind === 'video' && this.originMs === undefined) this.videoExpected = true;
    if (track.kind === 'audio') this.audioExpected = true;
  }

  push(frame: MediaFrame): PushResult {
    const t = frame.track;
    const locked = t.kind === 'video' ? this.video : this.audio;
    if (locked && !sameTrackConfig(locked, t)) return { kind: 'changed', track: t };
    if (this.originMs === undefined) return this.beforeStart(frame);
    if (!locked) {
      if (this.frozen) return { kind: 'dropped', why: 'late-track' };
      this.lock(t);
    }
    if (frame.dts < this.originMs) return { kind: 'dropped', why: 'before-origin' };
    const cur = this.current!;
    if (this.shouldCut(frame, cur)) {
      const done = this.close(cur, frame);
      this.open(frame);
      return { kind: 'segment', segment: done };
    }
    this.add(cur, frame);
    return { kind: 'buffered' };
  }

  /**
   * The frames of the open segment that can be written now, so that a crash loses at most a frame
   * per track: all but each track's last, whose duration is only known from the frame after it.
   * Undefined until the track that decides cuts (video when there is video) has one to give, and
   * until every announced track has begun (or the first cut came): the first chunk fixes the
   * tracks, since the init segment that describes them is written with it.
   */
  takeChunk(): Chunk | undefined {
    const cur = this.current;
    if (!cur || (this.video ? cur.video : cur.audio).length < 2) return undefined;
    if (!this.frozen) {
      if ((this.videoExpected && !this.video) || (this.audioExpected && !this.audio)) return undefined;
      this.frozen = true;
    }
    const chunk: Chunk = {
      video: cur.video.splice(0, Math.max(0, cur.video.length - 1)),
      audio: cur.audio.splice(0, Math.max(0, cur.audio.length - 1)),
      next: {},
    };
    if (cur.video.length > 0) chunk.next.video = cur.video[0].dts;
    if (cur.audio.length > 0) chunk.next.audio = cur.audio[0].dts;
    return chunk;
  }

  /** The segment still being filled (at the end of the stream), or undefined. */
  flush(): Segment | undefined {
    const cur = this.current;
    this.current = undefined;
    if (!cur || cur.video.length + cur.audio.length === 0) return undefined;
    this.frozen = true;
    return cur;
  }

  private beforeStart(frame: MediaFrame): PushResult {
    const t = frame.track;
    if (t.kind === 'audio' && this.videoExpected) {
      this.preroll.push(frame);
      // Only the last PREROLL_MS can be kept: trim as we go so a missing keyframe costs no memory.
      while (this.preroll.length > 0 && frame.dts - this.preroll[0].dts > PREROLL_MS) this.preroll.shift();
      return { kind: 'buffered' };
    }
    if (t.kind === 'video' && !frame.keyframe) return { kind: 'dropped', why: 'before-start' };
    this.lock(t);
    const kept = this.preroll.filter((a) => a.dts >= frame.dts - PREROLL_MS && a.dts <= frame.dts);
    this.preroll = [];
    if (kept.length > 0) this.lock(kept[0].track);
    this.originMs = Math.min(frame.dts, ...kept.map((a) => a.dts));
    this.open(kept[0] ?? frame);
    for (const a of kept.slice(1)) this.add(this.current!, a);
    if (kept.length > 0) this.add(this.current!, frame);
    return { kind: 'buffered' };
  }

  private lock(t: Track): void {
    if (t.kind === 'video') this.video ??= t;
    else this.audio ??= t;
  }

  private shouldCut(frame: MediaFrame, cur: Segment): boolean {
    const span = frame.dts - cur.startMs;
    if (span >= this.maxMs || this.bytes + frame.data.length > this.maxBytes) return true;
    if (span < this.opts.targetMs) return false;
    return this.video ? frame.track.kind === 'video' && frame.keyframe : frame.track.kind === 'audio';
  }

  private close(cur: Segment, opener: MediaFrame): Segment {
    this.frozen = true;
    cur.next = opener.track.kind === 'video' ? { video: opener.dts } : { audio: opener.dts };
    cur.forced = !(opener.track.kind === 'video' ? opener.keyframe : this.video === undefined);
    return cur;
  }

  private open(first: MediaFrame): void {
    this.current = { video: [], audio: [], startMs: first.dts, next: {}, forced: false };
    this.bytes = 0;
    this.add(this.current, first);
  }

  private add(cur: Segment, frame: MediaFrame): void {
    (frame.track.kind === 'video' ? cur.video : cur.audio).push(frame);
    this.bytes += frame.data.length;
  }
}
