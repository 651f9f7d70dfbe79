/**
 * A worker's StreamSource: a viewer that lands on a worker where its stream is not published is
 * served through this worker's hub, which pulls the stream once — however many viewers it has
 * here — from the worker that holds the publish, over that worker's private loopback port, with
 * the edge's pull code (UpstreamSource). So viewers get the GOP cache at once, and when the
 * holding worker dies they keep their connections while the pull reconnects to wherever the
 * publisher comes back, on one continuous timeline (src/edge/timeline.ts).
 */
import type { Logger } from 'pino';
import { UpstreamSource } from '../edge/upstream-source.js';
import { EstuaryError } from '../errors.js';
import type { LiveStream } from '../hub/live-stream.js';
import type { StreamHub } from '../hub/stream-hub.js';
import type { StreamName } from '../hub/stream-name.js';
import type { SourceRequest, StreamSource } from '../hub/stream-source.js';
import type { PrimaryLink } from './worker-link.js';

/** `Via` names of worker pulls start so: a pull never chains through a second worker. */
export const WORKER_VIA = 'estuary-worker-';

/**
 * Reconnect timing of a worker's pull: loopback, so short; a killed worker's publisher comes back
 * within seconds or not for a while (then, as on an edge, viewers end after GIVE_UP_MS).
 */
const PULL_TIMING = {
  reconnectInitialMs: 100,
  reconnectMaxMs: 500,
  giveUpMs: 30_000,
  idleReleaseMs: 5000,
  stallTimeoutMs: 10_000,
  connectTimeoutMs: 2000,
} as const;

/** A waiting player's pull that found no publish yet is tried this often, this many times. */
const WAKE_RETRY_MS = 500;
const WAKE_RETRIES = 10;

export class WorkerSource implements StreamSource {
  private readonly pulls: UpstreamSource;

  constructor(
    private readonly hub: StreamHub,
    private readonly link: PrimaryLink,
    maxTagBytes: number,
    log: Logger,
  ) {
    this.pulls = new UpstreamSource(
      hub,
      {
        upstream: 'http://127.0.0.1',
        locate: async (name) => (await this.link.request({ t: 'locate', path: name.path })).url,
        id: `${WORKER_VIA}${link.worker}`,
        maxTagBytes,
        // The publisher of a stream whose worker died, reconnecting to this worker: it takes over.
        yieldToPublisher: true,
        ...PULL_TIMING,
      },
      log.child({ component: 'worker-link' }),
    );
    link.on({
      published: (path) => this.wake(path),
      unpublished: (path) => this.pulls.release(path, `${path} was unpublished`),
    });
  }

  async open(name: StreamName, request: SourceRequest): Promise<void> {
    // Another worker's pull asks only for what is published here: it never chains on.
    if (request.via?.includes(WORKER_VIA)) throw notFound(name);
    const where = await this.link.request({ t: 'locate', path: name.path });
    // Claimed here, its publish is coming: the hub waits for it.
    if (where.self) return;
    if (where.url === undefined) throw notFound(name);
    await this.pulls.open(name, request);
  }

  subscribersChanged(stream: LiveStream): void {
    this.pulls.subscribersChanged(stream);
    // An RTMP player subscribes and waits (it does not go through awaitLive): bring the stream.
    if (!stream.isLive && stream.subscriberCount > 0) this.wake(stream.path);
  }

  /**
   * A stream that someone here waits for (RTMP players) began on another worker: pull it. The
   * name is claimed before its first tag arrives (an HTTP-FLV publish begins with its body), so a
   * pull that came too early is tried again a few times.
   */
  private wake(path: string, attempt = 0): void {
    const s = this.hub.get(path);
    if (!s || s.isLive || s.subscriberCount === 0 || this.pulls.has(path)) return;
    this.open(s.name, { query: '' }).catch(() => {
      if (attempt < WAKE_RETRIES) setTimeout(() => this.wake(path, attempt + 1), WAKE_RETRY_MS).unref();
    });
  }

  close(reason: string): void {
    this.pulls.close(reason);
  }
}

function notFound(name: StreamName): EstuaryError {
  return new EstuaryError('ERR_STREAM_NOT_FOUND', `stream ${name.path} is not being published`);
}
