import { FlvToFrames } from '../formats/flv/flv-to-frame.js';
import type { FlvTag } from '../formats/flv/tag.js';
import type { LiveStream } from '../hub/live-stream.js';
import { TimestampUnwrapper } from '../media/time.js';

/**
 * FLV tags → the live stream. FLV tags are the lingua franca of RTMP and HTTP-FLV publishing, so
 * both ingest paths (RTMP audio/video/data messages and a POSTed FLV body) end here: timestamps
 * are unwrapped to the monotonic ms clock, tags become tracks, frames and metadata.
 *
 * Errors (unsupported codec, malformed packet) propagate: the session that owns the publisher
 * closes it and logs why.
 */
export class FlvTagIngest {
  private readonly demux = new FlvToFrames();
  private readonly clock = new TimestampUnwrapper();

  constructor(private readonly stream: LiveStream) {}

  push(tag: FlvTag): void {
    const ms = this.clock.unwrap(tag.timestamp);
    for (const ev of this.demux.push(tag, ms)) {
      switch (ev.kind) {
        case 'track':
          this.stream.setTrack(ev.track);
          break;
        case 'frame':
          this.stream.pushFrame(ev.frame);
          break;
        case 'metadata':
          this.stream.setMetadata({ values: ev.values, body: ev.body });
          break;
      }
    }
  }
}
