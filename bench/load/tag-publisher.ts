import { readFileSync } from 'node:fs';
import type { FlvTag } from '../../src/formats/flv/tag.js';
import { FlvTagReader } from '../../src/formats/flv/tag-reader.js';
import { RtmpClient } from '../../src/rtmp/client.js';
import type { Histogram } from '../lib/histogram.js';
import { videoFrameKind } from './flv-check.js';
import { nowMicros, stampVideoBody } from './sei-clock.js';

/** Above this much queued on the socket the publisher waits for 'drain' (and falls behind). */
const MAX_QUEUED = 4 * 1024 * 1024;
/** Frame interval added between loops so timestamps keep rising (25 fps, the generated rate). */
const LOOP_GAP_MS = 40;

/** An FFmpeg-made FLV file, split into the tags sent once at the start and the tags that loop. */
export interface LoopSource {
  preamble: FlvTag[];
  loop: FlvTag[];
  durationMs: number;
}

export function loadLoopSource(file: string): LoopSource {
  const tags = new FlvTagReader().push(readFileSync(file));
  const preamble: FlvTag[] = [];
  const loop: FlvTag[] = [];
  for (const t of tags) {
    const config =
      t.type === 18 ||
      (t.type === 9 && videoFrameKind(t.body, t.body.length) === 'config') ||
      // AAC (SoundFormat 10) AACPacketType 0 is the AudioSpecificConfig (E.4.2.1).
      (t.type === 8 && t.body[0]! >> 4 === 10 && t.body[1] === 0);
    (config && loop.length === 0 ? preamble : loop).push(t);
  }
  const last = loop.at(-1)?.timestamp ?? 0;
  return { preamble, loop, durationMs: last - (loop[0]?.timestamp ?? 0) + LOOP_GAP_MS };
}

/**
 * Re-sends a file's tags over RTMP in real time, looping with rising timestamps; optionally
 * stamps every video frame with the send time (sei-clock.ts). Records how late each tag went
 * out against its schedule: a server that cannot keep up makes that grow.
 */
export class TagPublisher {
  private client: RtmpClient | undefined;
  private index = 0;
  private loops = 0;
  private startedAt = 0;
  private waiting = false;
  bytes = 0;
  failure: string | undefined;
  stopped = false;

  constructor(
    private readonly url: string,
    private readonly source: LoopSource,
    private readonly stampClock: boolean,
    private readonly lag: Histogram,
  ) {}

  async start(): Promise<void> {
    try {
      const client = await RtmpClient.connect(this.url);
      this.client = client;
      client.on('close', (reason: string) => {
        if (!this.stopped) this.failure ??= `closed: ${reason}`;
      });
      await client.publish();
      for (const t of this.source.preamble) client.writeMedia(t.type, 0, t.body);
      this.startedAt = performance.now();
    } catch (err) {
      this.failure = `publish: ${(err as Error).message}`;
    }
  }

  /** Sends every tag that is due; called by the worker every few ms. */
  tick(): void {
    const c = this.client;
    if (!c || this.startedAt === 0 || this.failure || this.stopped || this.waiting || c.isClosed) return;
    const loop = this.source.loop;
    const base = loop[0]!.timestamp;
    const elapsed = performance.now() - this.startedAt;
    for (;;) {
      const t = loop[this.index]!;
      const ts = t.timestamp - base + this.loops * this.source.durationMs;
      if (ts > elapsed) return;
      if (t.type === 9) this.lag.record(elapsed - ts);
      const body =
        this.stampClock && t.type === 9 && videoFrameKind(t.body, t.body.length) !== 'config'
          ? stampVideoBody(t.body, nowMicros())
          : t.body;
      c.writeMedia(t.type, ts, body);
      this.bytes += body.length;
      if (++this.index === loop.length) {
        this.index = 0;
        this.loops++;
      }
      if (c.buffered > MAX_QUEUED) {
        this.waiting = true;
        void c.drained().then(() => {
          this.waiting = false;
        });
        return;
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.end().catch(() => undefined);
  }
}
