import type { Logger } from 'pino';
import {
  audioSequenceHeaderBody,
  flvTagTypeOf,
  frameToFlvBody,
  videoSequenceHeaderBody,
} from '../formats/flv/frame-to-flv.js';
import { encodeMessage } from '../formats/rtmp/chunk-writer.js';
import { ChunkStreamId, type RtmpMessage } from '../formats/rtmp/message.js';
import { MessageType } from '../formats/rtmp/message-types.js';
import { FanOut, type FormatEncoder } from '../hub/fan-out.js';
import type { LiveStream } from '../hub/live-stream.js';
import type { StreamHub } from '../hub/stream-hub.js';
import type { ViewerBudget } from '../hub/viewer.js';
import type { MediaFrame } from '../media/frame.js';
import { wrap32 } from '../media/time.js';
import type { Track } from '../media/track.js';

/**
 * The chunk size Estuary sends with (announced by Set Chunk Size right after connect). Every
 * play connection uses the same one, so one chunk run per message serves every player.
 */
export const OUT_CHUNK_SIZE = 4096;

/**
 * The live stream as RTMP messages for one message stream id. Every message starts with a
 * type-0 chunk header carrying its absolute timestamp, so the bytes depend on no per-connection
 * chunk state and are written as they are to every player.
 */
export class RtmpFormatEncoder implements FormatEncoder {
  constructor(private readonly streamId: number) {}

  header(): undefined {
    return undefined;
  }

  metadata(stream: LiveStream): Buffer | undefined {
    return (
      stream.metadata && this.encode(MessageType.DataAmf0, ChunkStreamId.Status, 0, stream.metadata.body)
    );
  }

  track(track: Track, ts: number): Buffer | undefined {
    if (track.kind === 'video') {
      const body = videoSequenceHeaderBody(track);
      return body && this.encode(MessageType.Video, ChunkStreamId.Video, ts, body);
    }
    const body = audioSequenceHeaderBody(track);
    return body && this.encode(MessageType.Audio, ChunkStreamId.Audio, ts, body);
  }

  frame(frame: MediaFrame): Buffer {
    const video = flvTagTypeOf(frame) === MessageType.Video;
    return this.encode(
      video ? MessageType.Video : MessageType.Audio,
      video ? ChunkStreamId.Video : ChunkStreamId.Audio,
      frame.dts,
      frameToFlvBody(frame),
    );
  }

  private encode(type: number, chunkStreamId: number, ts: number, payload: Buffer): Buffer {
    const msg: RtmpMessage = { type, chunkStreamId, streamId: this.streamId, timestamp: wrap32(ts), payload };
    return encodeMessage(msg, OUT_CHUNK_SIZE);
  }
}

/** The stream's RTMP fan-out for players on message stream `streamId`. */
export function rtmpFanOut(
  hub: StreamHub,
  stream: LiveStream,
  streamId: number,
  log: Logger,
  budget: ViewerBudget,
): FanOut {
  return stream.sharedOutput(
    `rtmp:${streamId}`,
    () => new FanOut(stream, new RtmpFormatEncoder(streamId), log, (f) => hub.unsubscribe(stream, f), budget),
  );
}
