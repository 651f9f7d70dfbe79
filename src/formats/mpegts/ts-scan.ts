/**
 * Reads back a transport stream this project wrote (an HLS segment, the head of one, or the
 * `.part` of one that a crash cut short): how many bytes hold whole frames, the decode times of
 * those frames, the PMT and whether the segment starts on a random access point. Pure: a Buffer
 * in, plain values out.
 *
 * A frame's packets are contiguous and appended in order (ts-writer.ts, one append per frame),
 * so only the last PES in the buffer can be incomplete. An audio PES says its length
 * (PES_packet_length, ISO/IEC 13818-1 2.4.3.7) and can be checked; a video PES is "unbounded"
 * (length 0, allowed for video only), so its end is only known once something follows it: a
 * video PES that ends the buffer is not counted as whole, unless the buffer is known complete.
 */
import { TIMESTAMP_MODULO } from './pes.js';
import { SYNC_BYTE, TS_PACKET_SIZE } from './ts-packet.js';

/** 2.4.3.7 Table 2-22: stream_id 110x xxxx is audio, 1110 xxxx video. */
const isAudioStreamId = (id: number) => (id & 0xe0) === 0xc0;
const isVideoStreamId = (id: number) => (id & 0xf0) === 0xe0;
/** 2.4.4.4 Table 2-31: table_id of a TS_program_map_section. */
const TABLE_ID_PMT = 0x02;
/** adaptation_field flags (2.4.3.4): random_access_indicator. */
const AF_RANDOM_ACCESS = 0x40;
/** The MPEG-TS system clock of PTS/DTS (2.4.2.1). */
export const TS_CLOCK = 90000;

export interface TsScan {
  /** Bytes from the start that hold whole packets and whole frames only (a multiple of 188). */
  wholeBytes: number;
  /** Decode times (90 kHz, 33 bits as written) of the whole video frames, in order. */
  videoDts: number[];
  /** The same for audio frames. */
  audioDts: number[];
  /** Decode time of the first PES of any stream, whole or not: where the segment starts. */
  firstDts: number | undefined;
  /** The first PMT section's bytes: two segments with equal PMTs carry the same streams. */
  pmt: Buffer | undefined;
  /** Whether a video PES header was seen at all. */
  video: boolean;
  /** Whether the first video PES starts on a random access point (random_access_indicator). */
  randomAccess: boolean;
}

interface OpenPes {
  pid: number;
  streamId: number;
  /** PES_packet_length + 6, or 0 when unbounded. */
  expected: number;
  /** Payload bytes seen so far, PES header included. */
  collected: number;
  dts: number | undefined;
}

/** The 33-bit timestamp of a 5-byte PTS/DTS field (2.4.3.7). */
function readTimestamp(b: Buffer, off: number): number {
  const high = (b[off] >> 1) & 0x07;
  const mid = b.readUInt16BE(off + 1) >> 1;
  const low = b.readUInt16BE(off + 3) >> 1;
  return high * 2 ** 30 + mid * 2 ** 15 + low;
}

/** stream_id, PES_packet_length and the DTS (or PTS) of a PES header at `off`, when it is one. */
function parsePesHeader(
  b: Buffer,
  off: number,
  end: number,
): Pick<OpenPes, 'streamId' | 'expected' | 'dts'> | undefined {
  if (end - off < 9 || b[off] !== 0 || b[off + 1] !== 0 || b[off + 2] !== 1) return undefined;
  const streamId = b[off + 3];
  const length = b.readUInt16BE(off + 4);
  const flags = b[off + 7] >> 6; // PTS_DTS_flags
  let dts: number | undefined;
  if (flags === 0b10 && end - off >= 14) dts = readTimestamp(b, off + 9);
  else if (flags === 0b11 && end - off >= 19) dts = readTimestamp(b, off + 14);
  return { streamId, expected: length === 0 ? 0 : length + 6, dts };
}

/** The PSI section starting in a packet's payload (after its pointer_field), when it fits. */
function sectionAt(b: Buffer, payload: number, end: number): Buffer | undefined {
  const start = payload + 1 + b[payload];
  if (start + 3 > end) return undefined;
  const length = 3 + (b.readUInt16BE(start + 1) & 0x0fff);
  return start + length <= end ? b.subarray(start, start + length) : undefined;
}

/**
 * `complete`: the buffer is a whole segment (a file that got its final name), so a video PES at
 * its end is whole too; without it (a `.part` a crash cut short) it is not provably whole.
 */
export function scanTransportStream(b: Buffer, complete = false): TsScan {
  const out: TsScan = {
    wholeBytes: 0,
    videoDts: [],
    audioDts: [],
    firstDts: undefined,
    pmt: undefined,
    video: false,
    randomAccess: false,
  };
  /** The PES being read; only the last one can be cut short. */
  let open: OpenPes | undefined;
  const done = (p: OpenPes | undefined) => {
    if (p?.dts === undefined) return;
    if (isVideoStreamId(p.streamId)) out.videoDts.push(p.dts);
    else if (isAudioStreamId(p.streamId)) out.audioDts.push(p.dts);
  };
  let off = 0;
  for (; off + TS_PACKET_SIZE <= b.length && b[off] === SYNC_BYTE; off += TS_PACKET_SIZE) {
    const pid = b.readUInt16BE(off + 1) & 0x1fff;
    const unitStart = (b[off + 1] & 0x40) !== 0;
    const afc = (b[off + 3] >> 4) & 0x03; // adaptation_field_control (2.4.3.3)
    const hasAf = (afc & 0b10) !== 0 && b[off + 4] > 0;
    const payload = off + 4 + ((afc & 0b10) !== 0 ? 1 + b[off + 4] : 0);
    const end = off + TS_PACKET_SIZE;
    const hasPayload = (afc & 0b01) !== 0 && payload < end;
    if (!unitStart && hasPayload && open?.pid === pid) {
      open.collected += end - payload;
      continue;
    }
    // Anything else means the PES before it was written whole: a later write has begun.
    done(open);
    open = undefined;
    out.wholeBytes = off;
    const header = unitStart && hasPayload ? parsePesHeader(b, payload, end) : undefined;
    if (header) {
      open = { pid, ...header, collected: end - payload };
      out.firstDts ??= header.dts;
      if (isVideoStreamId(header.streamId) && !out.video) {
        out.video = true;
        out.randomAccess = hasAf && (b[off + 5] & AF_RANDOM_ACCESS) !== 0;
      }
      continue;
    }
    // A section (PAT/PMT) or a PCR-only packet: whole by itself.
    if (unitStart && hasPayload && pid !== 0 && out.pmt === undefined) {
      const section = sectionAt(b, payload, end);
      if (section?.[0] === TABLE_ID_PMT) out.pmt = Buffer.from(section);
    }
    out.wholeBytes = end;
  }
  if (open && (open.expected > 0 ? open.collected >= open.expected : complete)) {
    done(open);
    out.wholeBytes = off;
  }
  return out;
}

/** `to - from` in 90 kHz ticks across the 33-bit wrap. */
export function dtsDelta(from: number, to: number): number {
  return (to - from + TIMESTAMP_MODULO) % TIMESTAMP_MODULO;
}

/**
 * Where the frames of a scan end (90 kHz, 33 bits): the last whole frame of the stream that
 * decides segment durations (video when there is any, as the live segmenter measures on it),
 * plus the spacing of the frames before it. Undefined without a whole frame.
 */
export function scannedEnd(scan: TsScan): number | undefined {
  const dts = scan.videoDts.length > 0 ? scan.videoDts : scan.audioDts;
  if (dts.length === 0) return undefined;
  const last = dts[dts.length - 1];
  const step = dts.length > 1 ? dtsDelta(dts[dts.length - 2], last) : 0;
  return (last + step) % TIMESTAMP_MODULO;
}
