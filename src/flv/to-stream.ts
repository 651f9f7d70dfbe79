import type { Logger } from 'pino';
import { FlvToFrames } from '../formats/flv/flv-to-frame.js';
import { type FlvTag, FlvTagType } from '../formats/flv/tag.js';
import type { LiveStream } from '../hub/live-stream.js';
import type { MediaFrame } from '../media/frame.js';
import { type IngestTimeline, TimestampUnwrapper } from '../media/time.js';

/**
 * FLV tags → the live stream. FLV tags are the lingua franca of RTMP and HTTP-FLV publishing, so
 * every FLV-based ingest (RTMP audio/video/data messages, a POSTed FLV body, an edge's pull) ends
 * here: timestamps are unwrapped to the monotonic ms clock, tags become tracks, frames and metadata.
 *
 * Errors (unsupported codec, malformed packet) propagate: the session that owns the publisher
 * closes it and logs why. Metadata over the bounds (ERR_AMF_LIMIT) is the exception: it is
 * dropped with one warning per publish, and the frames go on.
 */
export class FlvTagIngest {
  private readonly demux = new FlvToFrames();
  private clock = new TimestampUnwrapper();
  private warnedMetadata = false;

  constructor(
    private readonly stream: LiveStream,
    private readonly log: Logger,
    // A publish that took a relay's stream over goes on on the relay's timeline (LiveStream.handedOver).
    private readonly timeline: IngestTimeline | undefined = stream.handedOver,
  ) {}

  /**
   * The tags that follow come over a new connection (an edge reconnected to its upstream): its
   * clock starts afresh, unless `sameClock` (the upstream says it is the same timeline). Tracks
   * carry over, so a repeated identical sequence header is no change.
   */
  newConnection(sameClock = false): void {
    if (sameClock) {
      // The upstream's 32-bit timestamps go on where they were: so does their unwrapping.
      this.timeline?.resume();
      return;
    }
    this.clock = new TimestampUnwrapper();
    this.timeline?.reanchor();
  }

  push(tag: FlvTag): void {
    const ms = this.clock.unwrap(tag.timestamp);
    for (const ev of this.demux.push(tag, ms)) {
      switch (ev.kind) {
        case 'track':
          this.stream.setTrack(ev.track);
          break;
        case 'frame': {
          const frame = this.timeline ? retime(ev.frame, this.timeline) : ev.frame;
          if (frame) this.stream.pushFrame(frame);
          break;
        }
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

function retime(frame: MediaFrame, timeline: IngestTimeline): MediaFrame | undefined {
  const dts = timeline.map(frame.track.kind, frame.dts, frame.pts);
  if (dts === undefined) return undefined;
  return dts === frame.dts ? frame : { ...frame, dts, pts: frame.pts + (dts - frame.dts) };
}
