import type { Logger } from 'pino';
import { FlvToFrames } from '../formats/flv/flv-to-frame.js';
import { type FlvTag, FlvTagType } from '../formats/flv/tag.js';
import type { LiveStream } from '../hub/live-stream.js';
import { TimestampUnwrapper } from '../media/time.js';

/**
 * FLV tags → the live stream. FLV tags are the lingua franca of RTMP and HTTP-FLV publishing, so
 * both ingest paths (RTMP audio/video/data messages and a POSTed FLV body) end here: timestamps
 * are unwrapped to the monotonic ms clock, tags become tracks, frames and metadata.
 *
 * Errors (unsupported codec, malformed packet) propagate: the session that owns the publisher
 * closes it and logs why. Metadata over the bounds (ERR_AMF_LIMIT) is the exception: it is
 * dropped with one warning per publish, and the frames go on.
 */
export class FlvTagIngest {
  private readonly demux = new FlvToFrames();
  private readonly clock = new TimestampUnwrapper();
  private warnedMetadata = false;

  constructor(
    private readonly stream: LiveStream,
    private readonly log: Logger,
  ) {}

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
    if (!this.warnedMetadata && tag.type === FlvTagType.Script) {
      const dropped = this.demux.droppedMetadata;
      if (dropped.count > 0) {
        this.warnedMetadata = true;
        this.log.warn(
          { path: this.stream.path, reason: dropped.lastReason },
          'metadata dropped; the stream goes on',
        );
      }
    }
  }
}
