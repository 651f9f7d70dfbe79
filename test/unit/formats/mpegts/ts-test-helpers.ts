/**
 * Shared literals and a minimal transport stream reader for the MPEG-TS tests: enough to look
 * at what the muxer wrote (packet headers, adaptation fields, PES headers), not a demuxer.
 */
import assert from 'node:assert/strict';
import type { AudioTrack, VideoTrack } from '../../../../src/media/track.js';

/** A Baseline-profile SPS and PPS (shape only: the TS path never parses them). */
export const H264_SPS = Buffer.from('6742c01e', 'hex');
export const H264_PPS = Buffer.from('68ce', 'hex');
/**
 * avcC (ISO/IEC 14496-15 5.3.3.1): version 1, profile 0x42, compat 0xC0, level 0x1E,
 * 0xFF (lengthSizeMinusOne 3), 0xE1 (one SPS), len 4 + SPS, 1 PPS, len 2 + PPS.
 */
export const AVCC_CONFIG = Buffer.from('0142c01effe1000467 42c01e01000268ce'.replace(/ /g, ''), 'hex');

/** VPS, SPS and PPS that x265 wrote for a 64x64 picture (a real SPS: parseHevcConfig reads its size). */
export const HEVC_VPS = Buffer.from('40010c01ffff0408000003009e0800000300001e959809', 'hex');
export const HEVC_SPS = Buffer.from(
  '4201010408000003009e0800000300001e90041020b2cacd24995e02dc080800100000030010000003019080',
  'hex',
);
export const HEVC_PPS = Buffer.from('4401c172860c4224', 'hex');

/** hvcC (14496-15 8.3.3.1) around the given parameter sets (by default those above), 4-byte NAL lengths. */
export function hvccConfig(vps: Buffer = HEVC_VPS, sps: Buffer = HEVC_SPS, pps: Buffer = HEVC_PPS): Buffer {
  const fixed = Buffer.from([
    0x01, // configurationVersion
    0x01, // profile space 0, tier 0, profile_idc 1 (Main)
    0x60,
    0x00,
    0x00,
    0x00, // general_profile_compatibility_flags
    0x90,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00, // general_constraint_indicator_flags
    0x1e, // general_level_idc (level 1)
    0xf0,
    0x00, // min_spatial_segmentation_idc
    0xfc, // parallelismType
    0xfd, // chroma_format_idc 1
    0xf8,
    0xf8, // bit depths 8
    0x00,
    0x00, // avgFrameRate
    0x0f, // constantFrameRate 0, numTemporalLayers 1, temporalIdNested 1, lengthSizeMinusOne 3
    0x03, // numOfArrays
  ]);
  const arrays = [vps, sps, pps].map((nal) => {
    const head = Buffer.from([0x80 | ((nal[0] >> 1) & 0x3f), 0x00, 0x01, nal.length >> 8, nal.length & 0xff]);
    return Buffer.concat([head, nal]);
  });
  return Buffer.concat([fixed, ...arrays]);
}

/** Length-prefixed NAL units (AVCC) with `size`-byte lengths. */
export function avcc(nalus: Buffer[], size: 1 | 2 | 4 = 4): Buffer {
  return Buffer.concat(
    nalus.flatMap((n) => {
      const len = Buffer.alloc(size);
      len.writeUIntBE(n.length, 0, size);
      return [len, n];
    }),
  );
}

/** Annex B with 4-byte start codes. */
export function annexB(nalus: Buffer[]): Buffer {
  return Buffer.concat(nalus.flatMap((n) => [Buffer.from([0, 0, 0, 1]), n]));
}

export const h264Track: VideoTrack = {
  kind: 'video',
  codec: 'h264',
  config: AVCC_CONFIG,
  width: 0,
  height: 0,
};
/** AudioSpecificConfig 0x1210: AAC-LC (2), 44.1 kHz (index 4), stereo (2). */
export const aacTrack: AudioTrack = {
  kind: 'audio',
  codec: 'aac',
  config: Buffer.from([0x12, 0x10]),
  sampleRate: 44100,
  channels: 2,
};

export interface TsPacketView {
  pid: number;
  pusi: boolean;
  afc: number;
  cc: number;
  randomAccess: boolean;
  /** PCR in 27 MHz units, when the adaptation field carries one. */
  pcr27?: number;
  /** Adaptation field bytes including its length byte (0 when absent). */
  afSize: number;
  payload: Buffer;
}

/** Splits a buffer into 188-byte packets and decodes their headers and adaptation fields. */
export function readPackets(buf: Buffer): TsPacketView[] {
  assert.equal(buf.length % 188, 0, 'a whole number of 188-byte packets');
  const out: TsPacketView[] = [];
  for (let off = 0; off < buf.length; off += 188) {
    const p = buf.subarray(off, off + 188);
    assert.equal(p[0], 0x47, `sync byte at ${off}`);
    const afc = (p[3] >> 4) & 3;
    let afSize = 0;
    let randomAccess = false;
    let pcr27: number | undefined;
    if (afc & 2) {
      afSize = p[4] + 1;
      if (afSize > 1) {
        randomAccess = (p[5] & 0x40) !== 0;
        if (p[5] & 0x10) {
          const base = p.readUInt32BE(6) * 2 + (p[10] >> 7);
          pcr27 = base * 300 + (((p[10] & 1) << 8) | p[11]);
        }
      }
    }
    out.push({
      pid: ((p[1] & 0x1f) << 8) | p[2],
      pusi: (p[1] & 0x40) !== 0,
      afc,
      cc: p[3] & 0x0f,
      randomAccess,
      pcr27,
      afSize,
      payload: afc & 1 ? p.subarray(4 + afSize) : Buffer.alloc(0),
    });
  }
  return out;
}

/** Joins the payloads of one PID into PES packets, split at payload_unit_start_indicator. */
export function collectPes(packets: TsPacketView[], pid: number): Buffer[] {
  const pes: Buffer[][] = [];
  for (const p of packets) {
    if (p.pid !== pid || p.payload.length === 0) continue;
    if (p.pusi) pes.push([]);
    assert.ok(pes.length > 0, 'payload before the first unit start');
    pes[pes.length - 1].push(p.payload);
  }
  return pes.map((parts) => Buffer.concat(parts));
}

function readTimestamp(b: Buffer, off: number): number {
  return (
    ((b[off] >> 1) & 7) * 2 ** 30 + ((b.readUInt16BE(off + 1) >> 1) << 15) + (b.readUInt16BE(off + 3) >> 1)
  );
}

export interface PesView {
  streamId: number;
  packetLength: number;
  pts: number;
  dts: number;
  data: Buffer;
}

export function readPes(pes: Buffer): PesView {
  assert.equal(pes.readUIntBE(0, 3), 1, 'packet_start_code_prefix');
  const flags = pes[7] >> 6;
  const pts = readTimestamp(pes, 9);
  const dts = flags === 3 ? readTimestamp(pes, 14) : pts;
  return { streamId: pes[3], packetLength: pes.readUInt16BE(4), pts, dts, data: pes.subarray(9 + pes[8]) };
}
