import type { Logger } from 'pino';
import type { Admission, ConnectionEnd } from '../hub/admission.js';
import type { PublisherInfo } from '../hub/live-stream.js';
import type { StreamHub } from '../hub/stream-hub.js';
import type { StreamName } from '../hub/stream-name.js';
import type { Viewer, ViewerBudget } from '../hub/viewer.js';
import type { NetStreamLink, PlaySource, PublishSink } from './command-machine.js';
import { rtmpFanOut } from './from-stream.js';
import { RtmpPublishToStream } from './to-stream.js';

export interface RtmpHubContext {
  readonly hub: StreamHub;
  /** Access rules, callbacks, limits a publish or play goes through first (none: all admitted). */
  readonly admission?: Admission;
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
    /** The connection, whose bytes written count as the stream's bytes out (read at API time). */
    private readonly conn?: {
      readonly bytesWritten: number;
      readonly remoteAddress?: string;
    } & Partial<ConnectionEnd>,
    /** The connection's id in the logs. */
    private readonly clientId = '',
  ) {}

  admit(action: 'publish' | 'play', name: StreamName, query: string): StreamName | Promise<StreamName> {
    const admission = this.ctx.admission;
    if (!admission || admission.empty) return name;
    return admission.admit({
      action,
      name,
      query,
      address: this.conn?.remoteAddress ?? '',
      protocol: 'rtmp',
      clientId: this.clientId,
      ...(this.conn?.once ? { connection: this.conn as ConnectionEnd } : {}),
    });
  }

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
    const conn = this.conn;
    let stream = hub.entry(name);
    let fanOut = rtmpFanOut(hub, stream, streamId, log, budget);
    fanOut.add(viewer);
    stream.viewerJoined('rtmp', conn);
    // A paused player is no viewer (it takes no bytes), and its stream entry may be dropped meanwhile.
    let counted = true;
    const leave = () => {
      fanOut.remove(viewer);
      if (counted) stream.viewerLeft('rtmp', conn);
      counted = false;
    };
    return {
      get live() {
        return stream.isLive;
      },
      pause: leave,
      resume: () => {
        // The entry may have been dropped while nobody watched it: look it up again.
        stream = hub.entry(name);
        fanOut = rtmpFanOut(hub, stream, streamId, log, budget);
        fanOut.add(viewer);
        stream.viewerJoined('rtmp', conn);
        counted = true;
      },
      stop: leave,
    };
  }
}
