/**
 * One movie fragment: moof (mfhd + one traf per track) followed by one mdat holding each track's
 * samples in turn (ISO/IEC 14496-12 8.8). Timing (durations, base decode time) is decided by the
 * caller, see fragment-timing.ts.
 */
import { EstuaryError } from '../../errors.js';
import { mdatHeader, moof, type TrunSample, tfdt, tfhd, traf, trun } from './fragment-boxes.js';

export interface FragmentSample extends TrunSample {
  data: Buffer;
}

export interface FragmentTrack {
  trackId: number;
  /** Decode time of the first sample, in the track timescale. */
  baseMediaDecodeTime: number;
  samples: readonly FragmentSample[];
}

function buildMoof(sequenceNumber: number, tracks: readonly FragmentTrack[], dataOffsets: number[]): Buffer {
  const trafs = tracks.map((t, i) =>
    traf(tfhd(t.trackId), tfdt(t.baseMediaDecodeTime), trun(t.samples, dataOffsets[i])),
  );
  return moof(sequenceNumber, ...trafs);
}

function validate(sequenceNumber: number, tracks: readonly FragmentTrack[]): number {
  if (!Number.isInteger(sequenceNumber) || sequenceNumber < 1 || sequenceNumber > 0xffffffff) {
    // 8.8.5.3: sequence numbers start at 1 and increase.
    throw new EstuaryError('ERR_MP4_FORMAT', `bad fragment sequence number ${sequenceNumber}`);
  }
  if (tracks.length === 0) throw new EstuaryError('ERR_MP4_FORMAT', 'a fragment needs at least one track');
  let total = 0;
  for (const t of tracks) {
    for (const s of t.samples) {
      if (s.data.length !== s.size) {
        throw new EstuaryError('ERR_MP4_FORMAT', `sample size ${s.size} != data length ${s.data.length}`);
      }
      total += s.size;
    }
  }
  return total;
}

/**
 * moof, mdat header and the sample payloads as separate Buffers (no copy of the media), ready
 * for a vectored write. trun data_offset of track i (default-base-is-moof) = moof size + mdat
 * header size + bytes of the tracks before it.
 */
export function buildFragmentParts(sequenceNumber: number, tracks: readonly FragmentTrack[]): Buffer[] {
  const payload = validate(sequenceNumber, tracks);
  const header = mdatHeader(payload);
  // trun sizes do not depend on the offset values, so a first build gives the moof size.
  const moofSize = buildMoof(
    sequenceNumber,
    tracks,
    tracks.map(() => 0),
  ).length;
  const offsets: number[] = [];
  let next = moofSize + header.length;
  for (const t of tracks) {
    if (next > 0x7fffffff) throw new EstuaryError('ERR_MP4_FORMAT', 'fragment data offset exceeds int32');
    offsets.push(next);
    for (const s of t.samples) next += s.size;
  }
  const parts = [buildMoof(sequenceNumber, tracks, offsets), header];
  for (const t of tracks) for (const s of t.samples) parts.push(s.data);
  return parts;
}

/** moof + mdat as one Buffer. */
export function buildFragment(sequenceNumber: number, tracks: readonly FragmentTrack[]): Buffer {
  return Buffer.concat(buildFragmentParts(sequenceNumber, tracks));
}
