import type { MediaFrame } from '../media/frame.js';

export interface GopCacheLimits {
  /** Most bytes of frame payload kept (default 32 MiB). */
  readonly maxBytes: number;
  /** Longest span kept from the keyframe, ms (default 30 s). */
  readonly maxDurationMs: number;
}

export const DEFAULT_GOP_LIMITS: GopCacheLimits = { maxBytes: 32 * 1024 * 1024, maxDurationMs: 30_000 };

/**
 * The frames from the last video keyframe on, so that a viewer who joins mid-stream can start
 * decoding at once instead of waiting for the next keyframe.
 *
 * Bounded by bytes and duration, not by packet count (a count-bounded cache that is cleared when
 * full loses the start of a long GOP for every new viewer). When a GOP outgrows the bounds the
 * cache stops growing and is marked incomplete: it still starts at the keyframe, so what it
 * holds decodes cleanly, and a viewer joining then waits for the next keyframe for the rest.
 *
 * Audio-only streams have no keyframes to anchor on; every audio frame is a random access
 * point, so the cache keeps the last `audioOnlyMs` of audio.
 */
export class GopCache {
  private items: MediaFrame[] = [];
  private bytes = 0;
  private overflow = false;
  private sawVideo = false;
  constructor(
    private readonly limits: GopCacheLimits = DEFAULT_GOP_LIMITS,
    private readonly audioOnlyMs = 1000,
  ) {}

  get frames(): readonly MediaFrame[] {
    return this.items;
  }

  /** True when frames after the first were dropped because the GOP outgrew the limits. */
  get truncated(): boolean {
    return this.overflow;
  }

  push(frame: MediaFrame): void {
    const isVideo = frame.track.kind === 'video';
    if (isVideo && !this.sawVideo) {
      this.sawVideo = true;
      // Audio kept while the stream looked audio-only must not lead into a video frame a decoder
      // cannot start on: from the first video frame on, the cache starts at a keyframe.
      if (!frame.keyframe) {
        this.restart();
        return;
      }
    }
    if (isVideo && frame.keyframe) {
      this.restart();
    } else if (!this.sawVideo) {
      this.trimAudioOnly(frame.dts);
    } else if (this.items.length === 0) {
      // Nothing before the first keyframe is of use to a new viewer.
      return;
    }
    if (this.overflow) return;
    const first = this.items[0];
    if (
      first &&
      (this.bytes + frame.data.length > this.limits.maxBytes ||
        frame.dts - first.dts > this.limits.maxDurationMs)
    ) {
      this.overflow = true;
      return;
    }
    this.items.push(frame);
    this.bytes += frame.data.length;
  }

  clear(): void {
    this.restart();
    this.sawVideo = false;
  }

  private restart(): void {
    this.items = [];
    this.bytes = 0;
    this.overflow = false;
  }

  private trimAudioOnly(now: number): void {
    let drop = 0;
    while (drop < this.items.length && now - this.items[drop]!.dts > this.audioOnlyMs) {
      this.bytes -= this.items[drop]!.data.length;
      drop++;
    }
    if (drop > 0) {
      this.items = this.items.slice(drop);
      this.overflow = false;
    }
  }
}
