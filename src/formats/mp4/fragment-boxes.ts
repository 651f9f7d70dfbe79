/**
 * Movie fragment boxes (ISO/IEC 14496-12 8.8) and the mdat header (8.1.1). Plain values in,
 * bytes out; fragment.ts computes the data offsets.
 */
import { box, fullBox, TWO_POW_32, u32s, u64 } from './box-writer.js';

export interface TrunSample {
  /** In the track timescale. */
  duration: number;
  size: number;
  flags: { keyframe: boolean };
  /** pts − dts in the track timescale. */
  compositionOffset: number;
}

/** tfhd flag 0x020000 default-base-is-moof (8.8.7.1): trun data offsets count from the moof start. */
export const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;

/**
 * trun flags (8.8.8.1): data-offset-present 0x1, then per-sample duration 0x100, size 0x200,
 * flags 0x400 and composition time offset 0x800.
 */
export const TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800;

/**
 * sample_flags (8.8.3.1): a sync sample "depends on no other" (sample_depends_on = 2, bits 24-25);
 * any other "depends on others" (1) with sample_is_non_sync_sample set (bit 16).
 */
export const SAMPLE_FLAGS_SYNC = 0x02000000;
export const SAMPLE_FLAGS_NON_SYNC = 0x01010000;

/** Header bytes of a trun with `n` samples (as written by trun() below): box 12 + count + offset + 16 n. */
export function trunSize(n: number): number {
  return 12 + 4 + 4 + 16 * n;
}

/** 8.8.4 MovieFragmentBox. */
export function moof(sequenceNumber: number, ...trafs: Buffer[]): Buffer {
  return box('moof', mfhd(sequenceNumber), ...trafs);
}

/** 8.8.5 MovieFragmentHeaderBox. */
export function mfhd(sequenceNumber: number): Buffer {
  return fullBox('mfhd', 0, 0, u32s(sequenceNumber));
}

/** 8.8.6 TrackFragmentBox. */
export function traf(...children: Buffer[]): Buffer {
  return box('traf', ...children);
}

/** 8.8.7 TrackFragmentHeaderBox with only default-base-is-moof: every default comes from trun. */
export function tfhd(trackId: number): Buffer {
  return fullBox('tfhd', 0, TFHD_DEFAULT_BASE_IS_MOOF, u32s(trackId));
}

/** 8.8.12 TrackFragmentBaseMediaDecodeTimeBox, version 1 (64-bit: 90 kHz overflows 32 bits in 13 h). */
export function tfdt(baseMediaDecodeTime: number): Buffer {
  return fullBox('tfdt', 1, 0, u64(baseMediaDecodeTime));
}

/**
 * 8.8.8 TrackRunBox with data_offset and per-sample duration, size, flags and composition offset.
 * Version 0 (unsigned offsets) unless some offset is negative, then version 1 (signed).
 */
export function trun(samples: readonly TrunSample[], dataOffset: number): Buffer {
  const negative = samples.some((s) => s.compositionOffset < 0);
  const body = Buffer.allocUnsafe(8 + samples.length * 16);
  body.writeUInt32BE(samples.length, 0);
  body.writeInt32BE(dataOffset, 4);
  samples.forEach((s, i) => {
    const off = 8 + i * 16;
    body.writeUInt32BE(s.duration, off);
    body.writeUInt32BE(s.size, off + 4);
    body.writeUInt32BE(s.flags.keyframe ? SAMPLE_FLAGS_SYNC : SAMPLE_FLAGS_NON_SYNC, off + 8);
    if (negative) body.writeInt32BE(s.compositionOffset, off + 12);
    else body.writeUInt32BE(s.compositionOffset, off + 12);
  });
  return fullBox('trun', negative ? 1 : 0, TRUN_FLAGS, body);
}

/**
 * 8.1.1 MediaDataBox header for `payloadSize` bytes: 8 bytes, or 16 with size = 1 and a 64-bit
 * largesize (4.2) when the box would reach 4 GiB.
 */
export function mdatHeader(payloadSize: number): Buffer {
  if (payloadSize + 8 < TWO_POW_32) {
    const h = Buffer.allocUnsafe(8);
    h.writeUInt32BE(payloadSize + 8, 0);
    h.write('mdat', 4, 'latin1');
    return h;
  }
  return Buffer.concat([u32s(1), Buffer.from('mdat', 'latin1'), u64(payloadSize + 16)]);
}
