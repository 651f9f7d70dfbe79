import type { MediaFrame } from '../media/frame.js';
import type { Track } from '../media/track.js';
import type { LiveStream } from './live-stream.js';

/**
 * Anything that consumes a live stream: a fan-out of viewers of one output format, a recorder.
 * The hub calls these synchronously, in stream order; a subscriber must never block (queue and
 * write asynchronously) and must never throw (a throw is caught, logged and the subscriber is
 * detached, so one broken output cannot stop the others).
 */
export interface StreamSubscriber {
  /** A publisher started (also called on subscribe when one is already publishing). */
  onPublish?(stream: LiveStream): void;
  /** The publisher sent (new) metadata. */
  onMetadata?(stream: LiveStream): void;
  /** A new track (codec sequence header) became current. */
  onTrack?(track: Track, stream: LiveStream): void;
  onFrame(frame: MediaFrame, stream: LiveStream): void;
  /** The publisher left (cleanly or not). The stream may be published again later. */
  onUnpublish?(stream: LiveStream, reason: string): void;
}
