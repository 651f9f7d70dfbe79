/**
 * The admission step (admission.ts) that bounds publishers at once and viewers per stream: cheap
 * counts read from the hub at the moment a publish or play asks (no bookkeeping of its own, so
 * nothing to drift), a coded refusal (ERR_LIMIT: HTTP 503, RTMP Publish.BadName / Play.Failed).
 */
import { EstuaryError } from '../errors.js';
import type { LimitHits } from '../net/limit-hits.js';
import type { AdmissionStep } from './admission.js';
import type { StreamHub } from './stream-hub.js';

export interface StreamLimits {
  /** Streams published at once; 0: no bound. */
  readonly maxPublishers: number;
  /** Viewers of one stream at once, every protocol together; 0: no bound. */
  readonly maxViewersPerStream: number;
}

/** `limits` is read at every request, so a reload (SIGHUP) applies to the next one. */
export function streamLimitsStep(hub: StreamHub, limits: () => StreamLimits, hits: LimitHits): AdmissionStep {
  return (req) => {
    const { maxPublishers, maxViewersPerStream } = limits();
    if (req.action === 'publish' && maxPublishers > 0) {
      let live = 0;
      for (const s of hub.list()) if (s.isLive) live++;
      if (live >= maxPublishers) {
        hits.hit(
          'max_publishers',
          { path: req.name.path, protocol: req.protocol, maxPublishers },
          `${maxPublishers} streams published at once: publish refused`,
        );
        throw new EstuaryError(
          'ERR_LIMIT',
          `the server takes at most ${maxPublishers} publishers at once (maxPublishers)`,
        );
      }
    }
    if (req.action === 'play' && maxViewersPerStream > 0) {
      const viewers = hub.get(req.name.path)?.viewerCount ?? 0;
      if (viewers >= maxViewersPerStream) {
        hits.hit(
          'max_viewers_per_stream',
          { path: req.name.path, protocol: req.protocol, maxViewersPerStream },
          `${maxViewersPerStream} viewers of ${req.name.path}: play refused`,
        );
        throw new EstuaryError(
          'ERR_LIMIT',
          `stream ${req.name.path} has its ${maxViewersPerStream} viewers already (maxViewersPerStream)`,
        );
      }
    }
    return undefined;
  };
}
