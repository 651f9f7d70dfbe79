import type { Logger } from 'pino';
import type { PublisherInfo } from '../hub/live-stream.js';
import type { StreamHub } from '../hub/stream-hub.js';
import type { StreamName } from '../hub/stream-name.js';
import type { Viewer, ViewerBudget } from '../hub/viewer.js';
import type { NetStreamLink, PlaySource, PublishSink } from './command-machine.js';
import { rtmpFanOut } from './from-stream.js';
import { RtmpPublishToStream } from './to-stream.js';

export interface RtmpHubContext {
  readonly hub: StreamHub;
  readonly log: Logger;
  readonly budget: ViewerBudget;
  readonly maxMessageBytes: number;
}

/**
 * NetStreams → the hub: a publish becomes the stream's publisher (its messages go through
 * RtmpPublishToStream), a play a viewer of the stream's RTMP fan-out for its message stream id.
 */
export class RtmpHubLink implements NetStreamLink {
  constructor(
    private readonly ctx: RtmpHubContext,
    /** `address:port` of the peer, for the hub's publisher info. */
    private readonly remote: string,
    /** The session's logger, for what one publish has to say. */
    private readonly log: Logger,
  ) {}

  publish(name: StreamName, query: string, kick: (reason: string) => void): PublishSink {
    const { hub, maxMessageBytes } = this.ctx;
    const publisher: PublisherInfo = { protocol: 'rtmp', remote: this.remote, kick };
    const stream = hub.publish(name, publisher, query);
    const toStream = new RtmpPublishToStream(stream, maxMessageBytes, this.log);
    return {
      push: (msg) => toStream.push(msg),
      end: (reason) => hub.unpublish(stream, publisher, reason),
    };
  }

  play(name: StreamName, streamId: number, viewer: Viewer): PlaySource {
    const { hub, log, budget } = this.ctx;
    let stream = hub.entry(name);
    let fanOut = rtmpFanOut(hub, stream, streamId, log, budget);
    fanOut.add(viewer);
    // A paused player is still a viewer (of the entry it will resume on).
    stream.viewerJoined('rtmp');
    let counted: typeof stream | undefined = stream;
    return {
      get live() {
        return stream.isLive;
      },
      pause: () => fanOut.remove(viewer),
      resume: () => {
        // The entry may have been dropped while nobody watched it: look it up again.
        stream = hub.entry(name);
        if (counted !== stream) {
          counted?.viewerLeft('rtmp');
          stream.viewerJoined('rtmp');
          counted = stream;
        }
        fanOut = rtmpFanOut(hub, stream, streamId, log, budget);
        fanOut.add(viewer);
      },
      stop: () => {
        fanOut.remove(viewer);
        counted?.viewerLeft('rtmp');
        counted = undefined;
      },
    };
  }
}
