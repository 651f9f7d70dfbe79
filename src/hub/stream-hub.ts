import type { Logger } from 'pino';
import { EstuaryError } from '../errors.js';
import type { GopCacheLimits } from './gop-cache.js';
import { type HubCounters, LiveStream, type PublisherInfo } from './live-stream.js';
import type { StreamName } from './stream-name.js';
import type { SourceRequest, StreamSource } from './stream-source.js';
import type { StreamSubscriber } from './subscriber.js';

/** Decides whether a publish may start; throws ERR_AUTH (saying why) to refuse it. */
export type PublishAuthorizer = (name: StreamName, query: string) => void;

/** Hooks the origin uses to attach recorders; the hub itself knows no outputs. */
export interface StreamHubEvents {
  onPublish?(stream: LiveStream): void;
  onUnpublish?(stream: LiveStream, reason: string): void;
}

/** How long a viewer waits for a stream its source is bringing, unless told otherwise. */
export const DEFAULT_SOURCE_WAIT_MS = 10_000;

/** `app/stream` → LiveStream. One publisher per name. */
export class StreamHub {
  private readonly streams = new Map<string, LiveStream>();
  private readonly hooks: StreamHubEvents[] = [];
  private source: StreamSource | undefined;
  /** Source requests under way, one per name however many viewers wait on it. */
  private readonly opening = new Map<string, Promise<void>>();
  /** What every stream's fan-outs count (skips, stalls), for /metrics. */
  readonly counters: HubCounters = { viewerSkips: 0, viewersStalled: 0 };

  constructor(
    private readonly log: Logger,
    private readonly gopLimits?: GopCacheLimits,
    private readonly authorize?: PublishAuthorizer,
  ) {}

  addHooks(hooks: StreamHubEvents): void {
    this.hooks.push(hooks);
  }

  /** Where streams nobody publishes here come from (the edge's upstream, another worker). */
  setSource(source: StreamSource): void {
    this.source = source;
    for (const s of this.streams.values()) s.onSubscribersChanged = (st) => source.subscribersChanged?.(st);
  }

  /**
   * The live stream a viewer asked for, or undefined when it is not live. Without a source that
   * is an immediate answer (the origin). With one, a stream that is not live is requested from
   * it once, and the viewer waits — at most `timeoutMs` — for its first frame; a source that
   * cannot provide it rejects, and that error (e.g. ERR_STREAM_NOT_FOUND) reaches the viewer.
   */
  async awaitLive(
    name: StreamName,
    request: SourceRequest = { query: '' },
    timeoutMs = DEFAULT_SOURCE_WAIT_MS,
  ): Promise<LiveStream | undefined> {
    const now = this.streams.get(name.path);
    const source = this.source;
    if (!source) return now?.isLive ? now : undefined;
    source.admit?.(name, request);
    if (now?.isLive && now.framesIn > 0) return now;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      if (!now?.isLive) {
        let opening = this.opening.get(name.path);
        if (!opening) {
          opening = source.open(name, request).finally(() => this.opening.delete(name.path));
          this.opening.set(name.path, opening);
        }
        if ((await Promise.race([opening, timeout])) === 'timeout') return undefined;
      }
      // Opened: wait for the publish, then for its first frame.
      let s = this.streams.get(name.path);
      if (!s?.isLive) {
        const next = this.nextPublish(name.path);
        const r = await Promise.race([next.published, timeout]);
        next.cancel();
        if (r === 'timeout') return undefined;
        s = this.streams.get(name.path);
      }
      if (!s?.isLive) return undefined;
      if ((await Promise.race([s.whenReady(), timeout])) === 'timeout') return undefined;
      return s.isLive ? s : undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  private readonly publishWaiters = new Map<string, Set<() => void>>();

  /** Resolves at the next publish of `path`; `cancel` forgets the wait (a viewer that gave up). */
  private nextPublish(path: string): { published: Promise<void>; cancel: () => void } {
    let wake: () => void = () => {};
    const published = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const set = this.publishWaiters.get(path) ?? new Set();
    set.add(wake);
    this.publishWaiters.set(path, set);
    const cancel = () => {
      set.delete(wake);
      if (set.size === 0 && this.publishWaiters.get(path) === set) this.publishWaiters.delete(path);
    };
    return { published, cancel };
  }

  get(path: string): LiveStream | undefined {
    return this.streams.get(path);
  }

  list(): LiveStream[] {
    return [...this.streams.values()];
  }

  /**
   * Starts publishing `name`, or throws ERR_AUTH when the authorizer refuses `query` (the URL's
   * query string, which carries credentials) or ERR_STREAM_BUSY when someone already publishes it.
   * A relay that can hand over (PublisherInfo.handOver) yields: the stream, its viewers and its
   * timeline go on with the new publisher; for the hooks (recorders) it is a new publish.
   */
  publish(name: StreamName, publisher: PublisherInfo, query = ''): LiveStream {
    this.checkPublish(name, query);
    const stream = this.entry(name);
    const relay = stream.publisher;
    if (relay?.handOver) {
      stream.takeOver(publisher, relay.handOver());
      this.log.info(
        { path: name.path, from: relay.remote },
        'a publisher takes the stream over from its relay',
      );
    } else stream.startPublish(publisher);
    const waiting = this.publishWaiters.get(name.path);
    if (waiting) {
      this.publishWaiters.delete(name.path);
      for (const w of waiting) w();
    }
    this.log.info(
      { path: name.path, protocol: publisher.protocol, remote: publisher.remote },
      'publish start',
    );
    for (const h of this.hooks) h.onPublish?.(stream);
    return stream;
  }

  /**
   * Throws what `publish` would throw now (ERR_AUTH, ERR_STREAM_BUSY) without creating or
   * starting anything: lets a protocol refuse before the publisher sends any media (HTTP
   * `Expect: 100-continue`; an HTTP-FLV publish, which begins only with its first tag).
   */
  checkPublish(name: StreamName, query = ''): void {
    this.authorize?.(name, query);
    const current = this.streams.get(name.path)?.publisher;
    if (current && !current.handOver) {
      throw new EstuaryError(
        'ERR_STREAM_BUSY',
        `stream ${name.path} is already being published (by ${current.protocol} ${current.remote})`,
      );
    }
  }

  /** Ends the publish of `stream`; only the current publisher may call this. */
  unpublish(stream: LiveStream, publisher: PublisherInfo, reason: string): void {
    if (stream.publisher !== publisher) return;
    this.log.info(
      { path: stream.path, reason, frames: stream.framesIn, bytes: stream.bytesIn },
      'publish end',
    );
    stream.endPublish(reason);
    for (const h of this.hooks) h.onUnpublish?.(stream, reason);
    this.dropIfIdle(stream);
  }

  /** Subscribes to a stream, creating an idle entry so a viewer can wait for a later publish. */
  subscribe(name: StreamName, sub: StreamSubscriber): LiveStream {
    const stream = this.entry(name);
    stream.subscribe(sub);
    return stream;
  }

  unsubscribe(stream: LiveStream, sub: StreamSubscriber): void {
    stream.unsubscribe(sub);
    this.dropIfIdle(stream);
  }

  /** Kicks every publisher (shutdown). */
  kickAll(reason: string): void {
    for (const s of this.streams.values()) s.publisher?.kick(reason);
  }

  /** Removes the entry once nobody publishes or watches it. */
  dropIfIdle(stream: LiveStream): void {
    if (!stream.publisher && stream.subscriberCount === 0 && this.streams.get(stream.path) === stream) {
      this.streams.delete(stream.path);
    }
  }

  /**
   * The entry for `name`, created idle if needed so that a viewer can wait for a later publish.
   * An entry nobody publishes or subscribes to is dropped by `dropIfIdle`.
   */
  entry(name: StreamName): LiveStream {
    let stream = this.streams.get(name.path);
    if (!stream) {
      stream = new LiveStream(name, this.log.child({ path: name.path }), this.gopLimits, this.counters);
      const source = this.source;
      if (source) stream.onSubscribersChanged = (s) => source.subscribersChanged?.(s);
      this.streams.set(name.path, stream);
    }
    return stream;
  }
}
