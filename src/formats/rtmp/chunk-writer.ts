/**
 * RTMP chunk encoder (spec section 5.3). `encodeMessage` is a pure function of the message and
 * the chunk size: it uses only fmt 0 and fmt 3 headers, so its bytes depend on no per-connection
 * compression state and the same Buffer can be written to every viewer (serialise once, share).
 */
import { EstuaryError } from '../../errors.js';
import type { RtmpMessage } from './message.js';

/** Section 5.3.1.3: timestamps at or above this go in the 4-byte extended field. */
const EXTENDED = 0xffffff;
/** Section 5.3.1.1: chunk stream ids 2..65599 (0 and 1 select the 2- and 3-byte forms). */
const MIN_CSID = 2;
const MAX_CSID = 65599;
/** Section 5.3.1.2.1: the message length field is 24 bits. */
const MAX_MESSAGE_LENGTH = 0xffffff;

function writerError(message: string): EstuaryError {
  return new EstuaryError('ERR_RTMP_CHUNK', message);
}

/** Size of the basic header for a chunk stream id: 1 byte up to 63, 2 up to 319, else 3. */
export function basicHeaderSize(csid: number): number {
  return csid < 64 ? 1 : csid < 320 ? 2 : 3;
}

function writeBasicHeader(out: Buffer, off: number, fmt: number, csid: number): number {
  if (csid < 64) {
    out[off] = (fmt << 6) | csid;
    return off + 1;
  }
  if (csid < 320) {
    out[off] = fmt << 6; // csid field 0: one more byte holds csid - 64
    out[off + 1] = csid - 64;
    return off + 2;
  }
  out[off] = (fmt << 6) | 1; // csid field 1: two more bytes, little-endian, hold csid - 64
  out.writeUInt16LE(csid - 64, off + 1);
  return off + 3;
}

/**
 * Encodes a whole message: one fmt 0 chunk, then fmt 3 continuation chunks of at most
 * `chunkSize` payload bytes. When the timestamp needs the extended field, every fmt 3 chunk
 * repeats it (section 5.3.1.3), which is what FFmpeg and librtmp expect to read.
 */
export function encodeMessage(msg: RtmpMessage, chunkSize: number): Buffer {
  const { chunkStreamId: csid, payload } = msg;
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > 0x7fffffff) {
    throw writerError(`chunk size ${chunkSize} is outside 1..2147483647`);
  }
  if (!Number.isInteger(csid) || csid < MIN_CSID || csid > MAX_CSID) {
    throw writerError(`chunk stream id ${csid} is outside ${MIN_CSID}..${MAX_CSID}`);
  }
  if (payload.length > MAX_MESSAGE_LENGTH) {
    throw writerError(`message of ${payload.length} bytes exceeds the 24-bit length field`);
  }
  const timestamp = msg.timestamp >>> 0;
  const extended = timestamp >= EXTENDED;
  const basic = basicHeaderSize(csid);
  const extSize = extended ? 4 : 0;
  const chunks = Math.max(1, Math.ceil(payload.length / chunkSize));
  const size = basic + 11 + extSize + payload.length + (chunks - 1) * (basic + extSize);
  const out = Buffer.allocUnsafe(size);

  let off = writeBasicHeader(out, 0, 0, csid);
  out.writeUIntBE(extended ? EXTENDED : timestamp, off, 3);
  out.writeUIntBE(payload.length, off + 3, 3);
  out[off + 6] = msg.type;
  out.writeUInt32LE(msg.streamId >>> 0, off + 7); // section 5.3.1.2.1: little-endian
  off += 11;
  if (extended) off = out.writeUInt32BE(timestamp, off);

  let pos = 0;
  do {
    if (pos > 0) {
      off = writeBasicHeader(out, off, 3, csid);
      if (extended) off = out.writeUInt32BE(timestamp, off);
    }
    const take = Math.min(chunkSize, payload.length - pos);
    off += payload.copy(out, off, pos, pos + take);
    pos += take;
  } while (pos < payload.length);
  return out;
}

/** Encodes several messages into one Buffer (one socket write for a batch). */
export function encodeMessages(msgs: readonly RtmpMessage[], chunkSize: number): Buffer {
  return Buffer.concat(msgs.map((m) => encodeMessage(m, chunkSize)));
}
