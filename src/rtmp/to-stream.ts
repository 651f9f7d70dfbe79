import type { Logger } from 'pino';
import { FlvTagIngest } from '../flv/to-stream.js';
import { FlvTagReader } from '../formats/flv/tag-reader.js';
import type { RtmpMessage } from '../formats/rtmp/message.js';
import { MessageType } from '../formats/rtmp/message-types.js';
import type { LiveStream } from '../hub/live-stream.js';

/**
 * An RTMP publish → the live stream. Audio (8), video (9) and data (18, and 15 = AMF3 data whose
 * first byte is a format marker) messages carry exactly FLV tag bodies; aggregate messages (22)
 * carry whole FLV tags (RTMP spec 7.1.6) whose timestamps are relative to the aggregate's.
 */
export class RtmpPublishToStream {
  private readonly ingest: FlvTagIngest;

  constructor(
    readonly stream: LiveStream,
    private readonly maxTagBytes: number,
    log: Logger,
  ) {
    this.ingest = new FlvTagIngest(stream, log);
  }

  push(msg: RtmpMessage): void {
    switch (msg.type) {
      case MessageType.Audio:
      case MessageType.Video:
        if (msg.payload.length > 0)
          this.ingest.push({ type: msg.type, timestamp: msg.timestamp, body: msg.payload });
        return;
      case MessageType.DataAmf0:
        this.pushData(msg.timestamp, msg.payload);
        return;
      case MessageType.DataAmf3:
        this.pushData(msg.timestamp, msg.payload.subarray(1));
        return;
      case MessageType.Aggregate:
        this.pushAggregate(msg);
        return;
    }
  }

  private pushData(timestamp: number, payload: Buffer): void {
    // Only onMetaData (with or without the @setDataFrame wrapper) is stream data; other data
    // messages (|RtmpSampleAccess, onTextData…) are not kept. The name is the first AMF0 string
    // (marker 0x02, u16 length; AMF0 2.4): compared as bytes, nothing else is decoded here.
    if (startsWithString(payload, '@setDataFrame') || startsWithString(payload, 'onMetaData')) {
      this.ingest.push({ type: MessageType.DataAmf0, timestamp, body: payload });
    }
  }

  private pushAggregate(msg: RtmpMessage): void {
    const reader = new FlvTagReader({ expectHeader: false, maxTagSize: this.maxTagBytes });
    const tags = reader.push(msg.payload);
    const base = tags[0]?.timestamp ?? 0;
    for (const tag of tags) {
      const timestamp = (msg.timestamp + (tag.timestamp - base)) >>> 0;
      if (tag.type === MessageType.DataAmf0) this.pushData(timestamp, tag.body);
      else this.ingest.push({ type: tag.type, timestamp, body: tag.body });
    }
  }
}

function startsWithString(payload: Buffer, name: string): boolean {
  const n = name.length;
  return (
    payload.length >= 3 + n &&
    payload[0] === 0x02 &&
    payload.readUInt16BE(1) === n &&
    payload.toString('latin1', 3, 3 + n) === name
  );
}
