/**
 * The push loop: file → paced FLV tags → one target, with `--loop` and reconnects. I/O lives in
 * the source and the targets; times in PushTimeline and Pacer; this file only sequences them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  audioSequenceHeaderBody,
  flvTagTypeOf,
  frameToFlvBody,
  videoSequenceHeaderBody,
} from '../formats/flv/frame-to-flv.js';
import { FlvTagType } from '../formats/flv/tag.js';
import type { MediaFrame } from '../media/frame.js';
import { wrap32 } from '../media/time.js';
import type { Track } from '../media/track.js';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { type MediaFileSource, openMediaFile, type SourceEvent } from './file-source.js';
import { sameTrackConfig } from './flv-track.js';
import { openTarget as defaultOpenTarget } from './open-target.js';
import { Pacer } from './pacer.js';
import { isBusyRefusal, isPushError, maskQueries, type PushError } from './push-error.js';
import type { OpenTarget, PushTarget } from './target.js';
import { PushTimeline } from './timeline.js';

export interface PushOptions {
  file: string;
  url: string;
  /** 1.0 = real time (default). */
  speed?: number;
  /** Repeat the file forever, timestamps increasing (default false). */
  loop?: boolean;
  /** Reconnect after a connection loss (default true); false: fail at the first loss. */
  reconnect?: boolean;
  backoff?: BackoffOptions;
  /** Media sent at once at the start and after a reconnect (default 1000 ms). */
  burstMs?: number;
  openTarget?: OpenTarget;
  /** One human-readable line per event (connected, reconnecting, skipped track). */
  log?: (message: string) => void;
  onProgress?: (p: PushProgress) => void;
  /** Aborting stops the push cleanly (the publish is ended, not cut). */
  signal?: AbortSignal;
  now?: () => number;
}

export interface PushProgress {
  state: 'sending' | 'reconnecting' | 'done';
  /** Position in the file (ms since its first frame) in the current pass. */
  positionMs: number;
  durationMs: number | undefined;
  /** 1 during the first pass over the file, 2 during the first repeat, … */
  pass: number;
  /** Timestamp of the last frame sent. */
  sentMs: number;
  /** FLV tag bodies sent, bytes. */
  bytes: number;
  frames: number;
  reconnects: number;
}

export interface PushResult extends PushProgress {
  /** Stopped by the signal before the end of the file. */
  interrupted: boolean;
}

type Kind = 'video' | 'audio';

/** Pushes a file; resolves when it was all sent (or the signal stopped it), rejects with a PushError. */
export async function pushFile(opts: PushOptions): Promise<PushResult> {
  const source = await openMediaFile(opts.file);
  try {
    return await new Pusher(opts, source).run();
  } finally {
    await source.close();
  }
}

class Pusher {
  private target: PushTarget | undefined;
  private readonly timeline = new PushTimeline();
  private readonly pacer: Pacer;
  private readonly open: OpenTarget;
  private readonly now: () => number;
  private readonly log: (message: string) => void;
  private metadata: Buffer | undefined;
  private readonly tracks = new Map<Kind, Track>();
  /** What this connection has been told: metadata and sequence headers. */
  private sentMetadata: Buffer | undefined;
  private readonly announced = new Map<Kind, Track>();
  /** After a reconnect, frames wait for a video keyframe so viewers can decode from the first. */
  private waitKeyframe = false;
  private passFirstDts: number | undefined;
  private readonly progress: PushProgress;

  constructor(
    private readonly opts: PushOptions,
    private readonly source: MediaFileSource,
  ) {
    this.pacer = new Pacer({ speed: opts.speed ?? 1, burstMs: opts.burstMs });
    this.open = opts.openTarget ?? defaultOpenTarget;
    this.now = opts.now ?? (() => performance.now());
    this.log = opts.log ?? (() => {});
    this.progress = {
      state: 'sending',
      positionMs: 0,
      durationMs: source.durationMs,
      pass: 0,
      sentMs: 0,
      bytes: 0,
      frames: 0,
      reconnects: 0,
    };
  }

  private get aborted(): boolean {
    return this.opts.signal?.aborted === true;
  }

  async run(): Promise<PushResult> {
    for (const why of this.source.skipped) this.log(`skipping ${why}`);
    this.target = await this.open(this.opts.url);
    this.log(`publishing ${this.source.path} to ${maskQueries(this.target.description)}`);
    try {
      do {
        this.timeline.startPass();
        this.progress.pass = this.timeline.pass;
        this.passFirstDts = undefined;
        for await (const ev of this.source.events()) {
          if (this.aborted) break;
          await this.onEvent(ev);
        }
      } while (this.opts.loop === true && !this.aborted);
      await this.target.finish();
    } catch (err) {
      if (!this.aborted) throw err;
    } finally {
      this.target.destroy();
    }
    this.progress.state = 'done';
    this.report();
    return { ...this.progress, interrupted: this.aborted };
  }

  private async onEvent(ev: SourceEvent): Promise<void> {
    switch (ev.kind) {
      case 'metadata':
        this.metadata = ev.body;
        return;
      case 'track':
        this.tracks.set(ev.track.kind, ev.track);
        return;
      case 'frame':
        return this.onFrame(ev.frame);
    }
  }

  private async onFrame(frame: MediaFrame): Promise<void> {
    const out = this.timeline.map(frame);
    this.passFirstDts ??= frame.dts;
    this.progress.positionMs = frame.dts - this.passFirstDts;
    this.progress.durationMs = this.source.durationMs;
    if (this.waitKeyframe && !this.endsWait(frame)) return;
    const delay = this.pacer.delay(out.dts, this.now());
    if (delay > 0) await this.wait(delay);
    if (this.aborted) return;
    const body = frameToFlvBody({ ...frame, dts: out.dts, pts: out.pts });
    for (;;) {
      try {
        await this.announce(frame.track, out.dts);
        await this.target!.send(flvTagTypeOf(frame), wrap32(out.dts), body);
        break;
      } catch (err) {
        if (!isPushError(err) || this.aborted) throw err;
        await this.reconnect(err);
        // The frame that failed is sent again only when viewers can start from it.
        if (this.waitKeyframe && !this.endsWait(frame)) return;
      }
    }
    this.progress.frames++;
    this.progress.bytes += body.length;
    this.progress.sentMs = out.dts;
    this.report();
  }

  /** True when `frame` may end the wait for a keyframe (and ends it). */
  private endsWait(frame: MediaFrame): boolean {
    if (frame.track.kind !== 'video' || !frame.keyframe) return false;
    this.waitKeyframe = false;
    return true;
  }

  /**
   * What a viewer needs before `track`'s frames: on a new connection metadata and every known
   * track's sequence header first (so a reconnected stream starts decodable), later only a
   * header whose configuration changed.
   */
  private async announce(track: Track, dts: number): Promise<void> {
    const ts = wrap32(dts);
    if (this.metadata && !this.sentMetadata?.equals(this.metadata)) {
      await this.target!.send(FlvTagType.Script, ts, this.metadata);
      this.sentMetadata = this.metadata;
    }
    const fresh = this.announced.size === 0;
    const due = fresh ? [...this.tracks.values()] : [];
    if (!due.includes(track)) due.push(track);
    for (const t of due) {
      if (sameTrackConfig(this.announced.get(t.kind), t)) continue;
      const body = t.kind === 'video' ? videoSequenceHeaderBody(t) : audioSequenceHeaderBody(t);
      if (body) await this.target!.send(t.kind === 'video' ? FlvTagType.Video : FlvTagType.Audio, ts, body);
      this.announced.set(t.kind, t);
    }
  }

  /** Waits for the pacer; a lost connection or the signal cuts it short. */
  private async wait(ms: number): Promise<void> {
    const timer = sleep(ms, undefined, { signal: this.opts.signal }).catch(() => {});
    await Promise.race([timer, this.target!.lost]);
  }

  /** Reconnects with backoff until it works (or fails for good); then the stream restarts cleanly. */
  private async reconnect(cause: PushError): Promise<void> {
    if (this.opts.reconnect === false || (cause.kind === 'publish-refused' && !isBusyRefusal(cause))) {
      throw cause;
    }
    this.target?.destroy();
    this.progress.state = 'reconnecting';
    this.progress.reconnects++;
    this.report();
    let last = cause;
    for (let attempt = 1; ; attempt++) {
      const delay = backoffDelay(attempt, this.opts.backoff ?? DEFAULT_BACKOFF);
      this.log(`${last.message}; reconnecting in ${(delay / 1000).toFixed(1)} s (attempt ${attempt})`);
      await sleep(delay, undefined, { signal: this.opts.signal });
      try {
        this.target = await this.open(this.opts.url);
        break;
      } catch (err) {
        if (!isPushError(err)) throw err;
        if (err.kind === 'usage' || (err.kind === 'publish-refused' && !isBusyRefusal(err))) throw err;
        last = err;
      }
    }
    this.log(
      `reconnected to ${maskQueries(this.target.description)}; resuming at ${(this.progress.positionMs / 1000).toFixed(1)} s`,
    );
    this.sentMetadata = undefined;
    this.announced.clear();
    this.waitKeyframe = this.tracks.has('video');
    this.pacer.reanchor();
    this.progress.state = 'sending';
  }

  private report(): void {
    this.opts.onProgress?.(this.progress);
  }
}
