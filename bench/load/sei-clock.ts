/**
 * Wall-clock stamps carried inside H.264 video frames, for the latency scenario. The origin
 * keeps only onMetaData from data messages (src/rtmp/to-stream.ts), but passes every NAL unit
 * of a frame through untouched, so the publisher prepends one SEI NAL unit (H.264 7.3.2.3) with
 * a user_data_unregistered payload (payloadType 5, D.1.6): a 16-byte UUID, then the send time.
 *
 * The time is 16 ASCII digits of microseconds since the epoch: ASCII digits are 0x30-0x39, so
 * the payload can never contain the 0x000000-0x000003 sequences that would need emulation
 * prevention bytes (7.4.1), and the reader needs no unescaping.
 */

/** Our UUID (D.2.6 uuid_iso_iec_11578): printable, no zero bytes. */
const UUID = Buffer.from('EstuaryBenchClk!', 'latin1');
const DIGITS = 16;
/** nal_unit_type 6 (SEI) with nal_ref_idc 0, Table 7-1. */
const NAL_SEI = 0x06;
/** sei payloadType 5: user_data_unregistered (D.1). */
const USER_DATA_UNREGISTERED = 5;
const PAYLOAD_SIZE = UUID.length + DIGITS;
/** NAL header, payloadType, payloadSize, payload, rbsp_stop_one_bit + alignment (0x80). */
export const SEI_NAL_SIZE = 1 + 1 + 1 + PAYLOAD_SIZE + 1;
/** FLV AVC video tag header: FrameType/CodecID, AVCPacketType, CompositionTime (E.4.3.1). */
const AVC_TAG_HEADER = 5;

/** Microseconds since the epoch, from the monotonic clock anchored at process start. */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** One SEI NAL unit, with its 4-byte AVCC length prefix, stamped `micros`. */
export function clockSei(micros: number): Buffer {
  const out = Buffer.alloc(4 + SEI_NAL_SIZE);
  out.writeUInt32BE(SEI_NAL_SIZE, 0);
  out[4] = NAL_SEI;
  out[5] = USER_DATA_UNREGISTERED;
  out[6] = PAYLOAD_SIZE;
  UUID.copy(out, 7);
  out.write(String(Math.trunc(micros)).padStart(DIGITS, '0').slice(-DIGITS), 7 + UUID.length, 'latin1');
  out[7 + PAYLOAD_SIZE] = 0x80;
  return out;
}

/**
 * An FLV/RTMP AVC video body with the clock SEI inserted as its first NAL unit (the AVCC
 * lengths are 4 bytes: FFmpeg's avcC says lengthSizeMinusOne = 3).
 */
export function stampVideoBody(body: Buffer, micros: number): Buffer {
  return Buffer.concat([body.subarray(0, AVC_TAG_HEADER), clockSei(micros), body.subarray(AVC_TAG_HEADER)]);
}

/** The stamp in the first NAL unit of an AVC video body's first bytes, or undefined. */
export function readClock(head: Buffer, length: number): number | undefined {
  const nal = AVC_TAG_HEADER + 4;
  if (length < nal + SEI_NAL_SIZE - 1) return undefined;
  if (head.readUInt32BE(AVC_TAG_HEADER) !== SEI_NAL_SIZE) return undefined;
  if (head[nal] !== NAL_SEI || head[nal + 1] !== USER_DATA_UNREGISTERED || head[nal + 2] !== PAYLOAD_SIZE) {
    return undefined;
  }
  if (head.compare(UUID, 0, UUID.length, nal + 3, nal + 3 + UUID.length) !== 0) return undefined;
  const start = nal + 3 + UUID.length;
  let v = 0;
  for (let i = start; i < start + DIGITS; i++) {
    const d = head[i]! - 0x30;
    if (d < 0 || d > 9) return undefined;
    v = v * 10 + d;
  }
  return v;
}

/** Bytes of a video body `readClock` needs to see. */
export const CLOCK_HEAD_BYTES = AVC_TAG_HEADER + 4 + SEI_NAL_SIZE;
