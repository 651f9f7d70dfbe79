/**
 * Protocol control messages (spec section 5.4) and user control messages (section 6.2 / 7.1.7):
 * builders returning complete messages, and one parser. All go on chunk stream 2, message
 * stream 0, timestamp 0, as section 5.4 requires.
 */
import { EstuaryError } from '../../errors.js';
import { ChunkStreamId, type RtmpMessage } from './message.js';
import { MessageType, UserControlEvent } from './message-types.js';

export type ControlMessage =
  | { kind: 'setChunkSize'; size: number }
  | { kind: 'abort'; chunkStreamId: number }
  | { kind: 'ack'; sequenceNumber: number }
  | { kind: 'windowAckSize'; size: number }
  | { kind: 'setPeerBandwidth'; size: number; limitType: number }
  | { kind: 'userControl'; event: number; value: number; value2?: number };

function control(type: number, payload: Buffer): RtmpMessage {
  return { type, streamId: 0, timestamp: 0, chunkStreamId: ChunkStreamId.Control, payload };
}

function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  for (let i = 0; i < values.length; i++) b.writeUInt32BE(values[i] >>> 0, 4 * i);
  return b;
}

/** Section 5.4.1: 31-bit chunk size; the top bit must be zero. */
export function setChunkSize(size: number): RtmpMessage {
  if (!Number.isInteger(size) || size < 1 || size > 0x7fffffff) {
    throw new EstuaryError('ERR_RTMP_CHUNK', `chunk size ${size} is outside 1..2147483647`);
  }
  return control(MessageType.SetChunkSize, u32(size));
}

/** Section 5.4.2: tells the peer to drop the partial message on `csid`. */
export function abort(csid: number): RtmpMessage {
  return control(MessageType.Abort, u32(csid));
}

/** Section 5.4.3: bytes received so far (the sequence number wraps at 2^32). */
export function acknowledgement(sequenceNumber: number): RtmpMessage {
  return control(MessageType.Acknowledgement, u32(sequenceNumber % 2 ** 32));
}

/** Section 5.4.4: how many bytes the peer may send before it must see an acknowledgement. */
export function windowAckSize(size: number): RtmpMessage {
  return control(MessageType.WindowAckSize, u32(size));
}

/** Section 5.4.5: window size then limit type (0 hard, 1 soft, 2 dynamic). */
export function setPeerBandwidth(size: number, limitType: number): RtmpMessage {
  const b = Buffer.alloc(5);
  b.writeUInt32BE(size >>> 0, 0);
  b[4] = limitType;
  return control(MessageType.SetPeerBandwidth, b);
}

/** Section 6.2: a 16-bit event type then the event data, here 32-bit words. */
export function userControl(event: number, ...values: number[]): RtmpMessage {
  const b = Buffer.alloc(2 + 4 * values.length);
  b.writeUInt16BE(event, 0);
  u32(...values).copy(b, 2);
  return control(MessageType.UserControl, b);
}

export const streamBegin = (streamId: number): RtmpMessage =>
  userControl(UserControlEvent.StreamBegin, streamId);
export const streamEof = (streamId: number): RtmpMessage => userControl(UserControlEvent.StreamEof, streamId);
export const streamDry = (streamId: number): RtmpMessage => userControl(UserControlEvent.StreamDry, streamId);
export const streamIsRecorded = (streamId: number): RtmpMessage =>
  userControl(UserControlEvent.StreamIsRecorded, streamId);
export const setBufferLength = (streamId: number, ms: number): RtmpMessage =>
  userControl(UserControlEvent.SetBufferLength, streamId, ms);
export const pingRequest = (timestamp: number): RtmpMessage =>
  userControl(UserControlEvent.PingRequest, timestamp);
export const pingResponse = (timestamp: number): RtmpMessage =>
  userControl(UserControlEvent.PingResponse, timestamp);

function need(msg: RtmpMessage, n: number, what: string): void {
  if (msg.payload.length < n) {
    throw new EstuaryError('ERR_RTMP_CHUNK', `${what} payload of ${msg.payload.length} bytes, expected ${n}`);
  }
}

/** Parses a message of type 1..6; longer payloads than needed are accepted (extra bytes ignored). */
export function parseControl(msg: RtmpMessage): ControlMessage {
  const p = msg.payload;
  switch (msg.type) {
    case MessageType.SetChunkSize:
      need(msg, 4, 'Set Chunk Size');
      return { kind: 'setChunkSize', size: p.readUInt32BE(0) };
    case MessageType.Abort:
      need(msg, 4, 'Abort');
      return { kind: 'abort', chunkStreamId: p.readUInt32BE(0) };
    case MessageType.Acknowledgement:
      need(msg, 4, 'Acknowledgement');
      return { kind: 'ack', sequenceNumber: p.readUInt32BE(0) };
    case MessageType.WindowAckSize:
      need(msg, 4, 'Window Acknowledgement Size');
      return { kind: 'windowAckSize', size: p.readUInt32BE(0) };
    case MessageType.SetPeerBandwidth:
      need(msg, 5, 'Set Peer Bandwidth');
      return { kind: 'setPeerBandwidth', size: p.readUInt32BE(0), limitType: p[4] };
    case MessageType.UserControl: {
      need(msg, 6, 'User Control');
      const event = p.readUInt16BE(0);
      const value = p.readUInt32BE(2);
      // Section 7.1.7: SetBufferLength carries a second word, the buffer length in ms.
      if (event === UserControlEvent.SetBufferLength) {
        need(msg, 10, 'User Control SetBufferLength');
        return { kind: 'userControl', event, value, value2: p.readUInt32BE(6) };
      }
      return { kind: 'userControl', event, value };
    }
    default:
      throw new EstuaryError('ERR_RTMP_CHUNK', `message type ${msg.type} is not a protocol control message`);
  }
}
