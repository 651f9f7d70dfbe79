/**
 * What the API tells about live streams beyond what a LiveStream keeps: once a second, for each
 * live stream, the input bitrate over that second, the viewer count and the frame rate, with a
 * few minutes of history for the dashboard's plot; and a client id per publisher. Everything is
 * read from counters the stream keeps anyway (bytesIn, viewerCount, the GOP cache): no work per
 * frame.
 */
import { randomBytes } from 'node:crypto';
import type { LiveStream, PublisherInfo } from '../../hub/live-stream.js';
import type { StreamHub } from '../../hub/stream-hub.js';

export interface StreamSample {
  /** Wall clock, ms since the epoch. */
  readonly t: number;
  /** Input bitrate over the interval before `t`, bit/s. */
  readonly bitrate: number;
  readonly viewers: number;
}

export interface SamplerOptions {
  readonly intervalMs?: number;
  /** Samples kept per stream (default 300: five minutes at 1 s). */
  readonly keep?: number;
}

interface SampleState {
  readonly publishedAt: number;
  lastT: number;
  lastBytes: number;
  /** Frame rate measured over the GOP cache, the last time it could be. */
  fps: number | undefined;
  readonly samples: StreamSample[];
}

export class StreamStats {
  private readonly states = new Map<LiveStream, SampleState>();
  private readonly clientIds = new WeakMap<PublisherInfo, string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;
  private readonly keep: number;

  constructor(
    private readonly hub: StreamHub,
    options: SamplerOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.keep = options.keep ?? 300;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    // Statistics never keep the process alive.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one sample of every live stream now (the timer calls this; tests may too). */
  sample(now = Date.now()): void {
    const seen = new Set<LiveStream>();
    for (const s of this.hub.list()) {
      if (!s.isLive) continue;
      seen.add(s);
      let st = this.states.get(s);
      if (!st || st.publishedAt !== s.publishedAt) {
        // A new publish: count from its start, so the first sample is already a rate.
        st = { publishedAt: s.publishedAt, lastT: s.publishedAt, lastBytes: 0, fps: undefined, samples: [] };
        this.states.set(s, st);
      }
      const dt = now - st.lastT;
      if (dt <= 0) continue;
      st.samples.push({
        t: now,
        bitrate: Math.round(((s.bytesIn - st.lastBytes) * 8 * 1000) / dt),
        viewers: s.viewerCount,
      });
      if (st.samples.length > this.keep) st.samples.shift();
      st.lastT = now;
      st.lastBytes = s.bytesIn;
      st.fps = measureFps(s) ?? st.fps;
    }
    for (const s of this.states.keys()) if (!seen.has(s)) this.states.delete(s);
  }

  /** The samples of the current publish of `stream`, oldest first. */
  history(stream: LiveStream): readonly StreamSample[] {
    return this.current(stream)?.samples ?? [];
  }

  /** The input bitrate of the last second (bit/s); before the first sample, the average so far. */
  bitrate(stream: LiveStream, now = Date.now()): number {
    const last = this.current(stream)?.samples.at(-1);
    if (last) return last.bitrate;
    const ms = now - stream.publishedAt;
    return ms > 0 ? Math.round((stream.bytesIn * 8 * 1000) / ms) : 0;
  }

  /** Frames per second measured from video DTS, or undefined before it could be. */
  fps(stream: LiveStream): number | undefined {
    return this.current(stream)?.fps ?? measureFps(stream);
  }

  /** A short random id for a publisher connection, the same for as long as it publishes. */
  clientId(publisher: PublisherInfo): string {
    let id = this.clientIds.get(publisher);
    if (!id) {
      id = randomBytes(6).toString('base64url');
      this.clientIds.set(publisher, id);
    }
    return id;
  }

  private current(stream: LiveStream): SampleState | undefined {
    const st = this.states.get(stream);
    return st && st.publishedAt === stream.publishedAt ? st : undefined;
  }
}

/**
 * Video frames per second over the GOP cache (the frames since the last keyframe): (n − 1)
 * intervals over the DTS span. DTS, not PTS: with B-frames PTS is out of order, DTS never is.
 */
export function measureFps(stream: LiveStream): number | undefined {
  let n = 0;
  let first = 0;
  let last = 0;
  for (const f of stream.gop.frames) {
    if (f.track.kind !== 'video') continue;
    if (n === 0) first = f.dts;
    last = f.dts;
    n++;
  }
  if (n < 3 || last <= first) return undefined;
  return Math.round(((n - 1) * 1000 * 100) / (last - first)) / 100;
}
