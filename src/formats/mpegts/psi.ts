/**
 * Program Specific Information (ISO/IEC 13818-1 2.4.4): the Program Association Table and the
 * Program Map Table, as sections ending in their CRC_32 (Annex A). One program, numbered and laid
 * out as FFmpeg and most HLS packagers do, so our tables look familiar to every demuxer.
 */
import { crc32Mpeg2 } from './crc32.js';

/** 2.4.4.4 Table 2-28: the PAT always travels on PID 0. */
export const PAT_PID = 0x0000;
/** FFmpeg's defaults (mpegts_pmt_start_pid, mpegts_start_pid), which Apple's tools also use. */
export const PMT_PID = 0x1000;
export const VIDEO_PID = 0x0100;
export const AUDIO_PID = 0x0101;
export const PROGRAM_NUMBER = 1;
/** transport_stream_id (2.4.4.5): any value; 1 as FFmpeg writes it. */
const TRANSPORT_STREAM_ID = 1;

/** stream_type values (2.4.4.10 Table 2-34, and ISO/IEC 13818-1 amendments for AVC/HEVC). */
export const StreamType = {
  /** ISO/IEC 11172-3 (MPEG-1) audio: MP3 at 32, 44.1 and 48 kHz. */
  MPEG1_AUDIO: 0x03,
  /** ISO/IEC 13818-3 (MPEG-2) audio: MP3 at the half rates 16, 22.05 and 24 kHz (and MPEG-2.5's). */
  MPEG2_AUDIO: 0x04,
  /** ISO/IEC 13818-7 audio with ADTS transport syntax. */
  AAC_ADTS: 0x0f,
  /** ITU-T H.264 | ISO/IEC 14496-10. */
  H264: 0x1b,
  /** ITU-T H.265 | ISO/IEC 23008-2. */
  H265: 0x24,
} as const;

export interface ElementaryStreamInfo {
  streamType: number;
  pid: number;
}

/** table_id values (2.4.4.4 Table 2-31). */
const TABLE_ID_PAT = 0x00;
const TABLE_ID_PMT = 0x02;
const CRC_SIZE = 4;
/** Bytes after section_length up to the first loop: 5 in both tables (2.4.4.3, 2.4.4.8). */
const SYNTAX_HEADER = 5;

/**
 * Wraps a section body: table_id, section_syntax_indicator '1', '0', reserved '11',
 * section_length (12 bits, counting everything after it including the CRC), then `idExtension`,
 * reserved '11', version_number 0, current_next_indicator 1, section_number 0,
 * last_section_number 0, the body, and CRC_32.
 */
function buildSection(tableId: number, idExtension: number, body: Buffer): Buffer {
  const sectionLength = SYNTAX_HEADER + body.length + CRC_SIZE;
  const out = Buffer.alloc(3 + sectionLength);
  out[0] = tableId;
  out.writeUInt16BE(0xb000 | sectionLength, 1);
  out.writeUInt16BE(idExtension, 3);
  out[5] = 0xc1; // reserved '11', version_number 0, current_next_indicator 1
  out[6] = 0; // section_number
  out[7] = 0; // last_section_number
  body.copy(out, 8);
  const crcOff = out.length - CRC_SIZE;
  out.writeUInt32BE(crc32Mpeg2(out, 0, crcOff), crcOff);
  return out;
}

/** PAT (2.4.4.3): program 1 → PMT PID. */
export function buildPat(pmtPid = PMT_PID): Buffer {
  const body = Buffer.alloc(4);
  body.writeUInt16BE(PROGRAM_NUMBER, 0);
  body.writeUInt16BE(0xe000 | pmtPid, 2); // reserved '111' + program_map_PID
  return buildSection(TABLE_ID_PAT, TRANSPORT_STREAM_ID, body);
}

/** PMT (2.4.4.8): the PCR PID and one entry per elementary stream, without descriptors. */
export function buildPmt(pcrPid: number, streams: readonly ElementaryStreamInfo[]): Buffer {
  const body = Buffer.alloc(4 + 5 * streams.length);
  body.writeUInt16BE(0xe000 | pcrPid, 0); // reserved '111' + PCR_PID
  body.writeUInt16BE(0xf000, 2); // reserved '1111' + program_info_length 0
  streams.forEach((s, i) => {
    const off = 4 + 5 * i;
    body[off] = s.streamType;
    body.writeUInt16BE(0xe000 | s.pid, off + 1); // reserved '111' + elementary_PID
    body.writeUInt16BE(0xf000, off + 3); // reserved '1111' + ES_info_length 0
  });
  return buildSection(TABLE_ID_PMT, PROGRAM_NUMBER, body);
}
