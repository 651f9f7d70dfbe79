import type { Logger } from 'pino';
import { EstuaryError } from '../errors.js';
import type { GopCacheLimits } from './gop-cache.js';
import { LiveStream, type PublisherInfo } from './live-stream.js';
import type { StreamName } from './stream-name.js';
import type { StreamSubscriber } from './subscriber.js';

/** Decides whether a publish may start; throws ERR_AUTH (saying why) to refuse it. */
export type PublishAuthorizer = (name: StreamName, query: string) => void;

/** Hooks the origin uses to attach recorders; the hub itself knows no outputs. */
export interface StreamHubEvents {
  onPublish?(stream: LiveStream): void;
  onUnpublish?(stream: LiveStream, reason: string): void;
}

/** `app/stream` → LiveStream. One publisher per name. */
export class StreamHub {
  private readonly streams = new Map<string, LiveStream>();
  private readonly hooks: StreamHubEvents[] = [];

  constructor(
    private readonly log: Logger,
    private readonly gopLimits?: GopCacheLimits,
    private readonly authorize?: PublishAuthorizer,
  ) {}

  addHooks(hooks: StreamHubEvents): void {
    this.hooks.push(hooks);
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
   */
  publish(name: StreamName, publisher: PublisherInfo, query = ''): LiveStream {
    this.checkPublish(name, query);
    const stream = this.entry(name);
    stream.startPublish(publisher);
    this.log.info(
      { path: name.path, protocol: publisher.protocol, remote: publisher.remote },
      'publish start',
    );
    for (const h of this.hooks) h.onPublish?.(stream);
    return stream;
  }

  /**
   * Throws what `publish` would (ERR_AUTH, ERR_STREAM_BUSY) without creating or starting
   * anything: for an ingest that publishes only once its first media has arrived.
   */
  checkPublish(name: StreamName, query = ''): void {
    this.authorize?.(name, query);
    const current = this.streams.get(name.path)?.publisher;
    if (current) {
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
      stream = new LiveStream(name, this.log.child({ path: name.path }), this.gopLimits);
      this.streams.set(name.path, stream);
    }
    return stream;
  }
}
