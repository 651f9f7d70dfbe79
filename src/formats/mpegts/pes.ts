/**
 * PES packets (ISO/IEC 13818-1 2.4.3.6 / 2.4.3.7): a header with PTS (and DTS when it differs)
 * in 90 kHz units, followed by one access unit.
 */
import { EstuaryError } from '../../errors.js';

/** stream_id values (2.4.3.7 Table 2-22): the first video and the first audio stream number. */
export const STREAM_ID_VIDEO = 0xe0;
/** 110x xxxx: ISO/IEC 13818-3, 11172-3, 13818-7 or 14496-3 audio, so MP3 and AAC alike. */
export const STREAM_ID_AUDIO = 0xc0;

/** Timestamps are 33-bit counters of a 90 kHz clock that wrap (2.4.3.7, PTS/DTS semantics). */
export const TIMESTAMP_MODULO = 2 ** 33;
/** start code prefix (3) + stream_id (1) + PES_packet_length (2). */
const PES_PREFIX_SIZE = 6;
/** The flag bytes and PES_header_data_length after the prefix. */
const PES_FLAGS_SIZE = 3;
const TIMESTAMP_SIZE = 5;
/** PES_packet_length is 16 bits. */
const MAX_PES_PACKET_LENGTH = 0xffff;

export interface PesHeaderOptions {
  streamId: number;
  /** Presentation time, 90 kHz; reduced mod 2^33. */
  pts: number;
  /** Decode time, 90 kHz; written only when it differs from pts (PTS_DTS_flags '11'). */
  dts?: number;
  /** Bytes of elementary stream data that follow the header. */
  dataLength: number;
  /**
   * Writes PES_packet_length 0, "unbounded", which 2.4.3.7 allows only for video elementary
   * streams in transport streams; needed because a video access unit can exceed 64 KiB.
   */
  unbounded?: boolean;
}

/**
 * Writes a 5-byte PTS or DTS field (2.4.3.7): a 4-bit prefix, then the 33 bits split 3/15/15,
 * each group followed by a marker bit of 1.
 */
export function writeTimestamp(out: Buffer, off: number, prefix: number, ts: number): void {
  const t = ((ts % TIMESTAMP_MODULO) + TIMESTAMP_MODULO) % TIMESTAMP_MODULO;
  const high = Math.floor(t / 2 ** 30); // bits 32..30
  const low30 = t % 2 ** 30;
  out[off] = (prefix << 4) | (high << 1) | 1;
  out.writeUInt16BE((((low30 >>> 15) & 0x7fff) << 1) | 1, off + 1);
  out.writeUInt16BE(((low30 & 0x7fff) << 1) | 1, off + 3);
}

/** Builds the PES header (everything before the access unit's bytes). */
export function buildPesHeader(opts: PesHeaderOptions): Buffer {
  const dts = opts.dts !== undefined && opts.dts !== opts.pts ? opts.dts : undefined;
  const hasDts = dts !== undefined;
  const headerDataLength = hasDts ? 2 * TIMESTAMP_SIZE : TIMESTAMP_SIZE;
  const out = Buffer.allocUnsafe(PES_PREFIX_SIZE + PES_FLAGS_SIZE + headerDataLength);
  const packetLength = opts.unbounded ? 0 : PES_FLAGS_SIZE + headerDataLength + opts.dataLength;
  if (packetLength > MAX_PES_PACKET_LENGTH) {
    throw new EstuaryError(
      'ERR_MPEGTS_MUX',
      `a ${opts.dataLength}-byte access unit does not fit a bounded PES packet (at most 65535 bytes)`,
    );
  }
  out.writeUIntBE(0x000001, 0, 3); // packet_start_code_prefix
  out[3] = opts.streamId;
  out.writeUInt16BE(packetLength, 4);
  // '10', PES_scrambling_control '00', PES_priority 0, data_alignment_indicator 1 (the payload
  // starts with an access unit, 2.4.3.8), copyright 0, original_or_copy 0.
  out[6] = 0x84;
  // PTS_DTS_flags '10' (PTS only) or '11' (both); no ESCR, ES_rate, trick mode, CRC or extension.
  out[7] = hasDts ? 0xc0 : 0x80;
  out[8] = headerDataLength;
  // Prefixes: '0010' for a lone PTS, '0011' for a PTS followed by a DTS, '0001' for that DTS.
  writeTimestamp(out, 9, hasDts ? 0b0011 : 0b0010, opts.pts);
  if (hasDts) writeTimestamp(out, 9 + TIMESTAMP_SIZE, 0b0001, dts);
  return out;
}
