import { EstuaryError } from '../../errors.js';

/** Size of the FLV file header (Adobe FLV spec v10.1 E.2): 'FLV', version, flags, DataOffset. */
export const FLV_HEADER_SIZE = 9;
/** PreviousTagSize fields are UI32 (E.3). */
export const PREVIOUS_TAG_SIZE_SIZE = 4;

/** TypeFlagsAudio / TypeFlagsVideo bits of the header's flags byte (E.2). */
const FLAG_AUDIO = 0x04;
const FLAG_VIDEO = 0x01;

export interface FlvHeader {
  version: number;
  audio: boolean;
  video: boolean;
  /** Offset of the body (the first PreviousTagSize); 9 for version 1. */
  dataOffset: number;
}

/**
 * The 9-byte header plus PreviousTagSize0 (always 0, E.3): 13 bytes an HTTP-FLV response or an
 * FLV file starts with, so they can be written in one go.
 */
export function encodeFlvHeader(opts: { audio: boolean; video: boolean }): Buffer {
  const b = Buffer.alloc(FLV_HEADER_SIZE + PREVIOUS_TAG_SIZE_SIZE);
  b.write('FLV', 0, 'latin1');
  b[3] = 1; // version
  b[4] = (opts.audio ? FLAG_AUDIO : 0) | (opts.video ? FLAG_VIDEO : 0);
  b.writeUInt32BE(FLV_HEADER_SIZE, 5); // DataOffset
  // Bytes 9..12: PreviousTagSize0 = 0 (alloc zero-fills).
  return b;
}

/** Parses the 9-byte header at the start of `buf`. */
export function parseFlvHeader(buf: Buffer): FlvHeader {
  if (buf.length < FLV_HEADER_SIZE) {
    throw new EstuaryError('ERR_FLV_FORMAT', `FLV header needs ${FLV_HEADER_SIZE} bytes, got ${buf.length}`);
  }
  if (buf[0] !== 0x46 || buf[1] !== 0x4c || buf[2] !== 0x56) {
    throw new EstuaryError(
      'ERR_FLV_FORMAT',
      `bad FLV signature ${buf.subarray(0, 3).toString('hex')} (want "FLV")`,
    );
  }
  const dataOffset = buf.readUInt32BE(5);
  if (dataOffset < FLV_HEADER_SIZE) {
    throw new EstuaryError('ERR_FLV_FORMAT', `FLV DataOffset ${dataOffset} is smaller than the header`);
  }
  return {
    version: buf[3],
    audio: (buf[4] & FLAG_AUDIO) !== 0,
    video: (buf[4] & FLAG_VIDEO) !== 0,
    dataOffset,
  };
}
