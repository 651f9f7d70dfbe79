import { EstuaryError } from '../../errors.js';

/** TagType values (FLV spec E.4.1). */
export const FlvTagType = { Audio: 8, Video: 9, Script: 18 } as const;

export interface FlvTag {
  type: number;
  /** Milliseconds, 32 bits: Timestamp (UI24) with TimestampExtended as the upper 8 bits (E.4.1). */
  timestamp: number;
  body: Buffer;
}

/** FLV tag header: TagType, DataSize UI24, Timestamp UI24, TimestampExtended UI8, StreamID UI24 (E.4.1). */
export const FLV_TAG_HEADER_SIZE = 11;
/** DataSize is a UI24, so no tag body can be larger. */
export const FLV_MAX_TAG_BODY = 0xffffff;

/**
 * One complete tag as a single Buffer: 11-byte header + body + PreviousTagSize (UI32 = 11 +
 * body length, E.3), ready to append after encodeFlvHeader() or another tag.
 */
export function encodeFlvTag(type: number, timestamp: number, body: Buffer): Buffer {
  if (body.length > FLV_MAX_TAG_BODY) {
    throw new EstuaryError(
      'ERR_FLV_FORMAT',
      `FLV tag body of ${body.length} bytes exceeds the UI24 DataSize`,
    );
  }
  const ts = timestamp >>> 0;
  const out = Buffer.allocUnsafe(FLV_TAG_HEADER_SIZE + body.length + 4);
  out[0] = type & 0x1f; // reserved bits and Filter (encryption) 0
  out.writeUIntBE(body.length, 1, 3);
  out.writeUIntBE(ts & 0xffffff, 4, 3);
  out[7] = ts >>> 24; // TimestampExtended
  out.writeUIntBE(0, 8, 3); // StreamID, always 0
  body.copy(out, FLV_TAG_HEADER_SIZE);
  out.writeUInt32BE(FLV_TAG_HEADER_SIZE + body.length, FLV_TAG_HEADER_SIZE + body.length);
  return out;
}
