/**
 * Reads one 'moof' (ISO/IEC 14496-12 8.8.4) into per-track sample lists with absolute file
 * offsets and decode times. A moof is small (a few KB per second of media) and read whole; the
 * caller bounds its size. Used by the demuxer and by whatever re-reads recorded fragments.
 */
import { BoxCursor, type BoxHeader, childBoxes, findChild, mp4Error, parseBoxHeader } from './box-reader.js';
import type { TrackDefaults } from './movie-parser.js';

export interface ParsedSample {
  /** Decode time in the track timescale. */
  dts: number;
  /** pts − dts in the track timescale. */
  compositionOffset: number;
  duration: number;
  size: number;
  /** Absolute file offset of the sample data. */
  offset: number;
  /** sample_is_non_sync_sample clear (8.8.3.1). */
  sync: boolean;
}

export interface ParsedTrackFragment {
  trackId: number;
  samples: ParsedSample[];
}

/** tfhd flags, 8.8.7.1. */
const TFHD_BASE_DATA_OFFSET = 0x000001;
const TFHD_SAMPLE_DESCRIPTION_INDEX = 0x000002;
const TFHD_DEFAULT_DURATION = 0x000008;
const TFHD_DEFAULT_SIZE = 0x000010;
const TFHD_DEFAULT_FLAGS = 0x000020;
const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;
/** trun flags, 8.8.8.1. */
const TRUN_DATA_OFFSET = 0x000001;
const TRUN_FIRST_SAMPLE_FLAGS = 0x000004;
const TRUN_DURATION = 0x000100;
const TRUN_SIZE = 0x000200;
const TRUN_FLAGS = 0x000400;
const TRUN_CTS = 0x000800;
/** sample_is_non_sync_sample, bit 16 of sample_flags (8.8.3.1). */
const NON_SYNC = 0x00010000;

interface TfhdInfo {
  trackId: number;
  base: number | undefined;
  baseIsMoof: boolean;
  defaults: TrackDefaults;
}

function parseTfhd(buf: Buffer, h: BoxHeader, trex: ReadonlyMap<number, TrackDefaults>): TfhdInfo {
  const c = BoxCursor.of(buf, h);
  const { flags } = c.versionFlags();
  const trackId = c.u32();
  const d = { ...(trex.get(trackId) ?? { duration: 0, size: 0, flags: 0 }) };
  const base = flags & TFHD_BASE_DATA_OFFSET ? c.u64() : undefined;
  if (flags & TFHD_SAMPLE_DESCRIPTION_INDEX) c.skip(4);
  if (flags & TFHD_DEFAULT_DURATION) d.duration = c.u32();
  if (flags & TFHD_DEFAULT_SIZE) d.size = c.u32();
  if (flags & TFHD_DEFAULT_FLAGS) d.flags = c.u32();
  return { trackId, base, baseIsMoof: (flags & TFHD_DEFAULT_BASE_IS_MOOF) !== 0, defaults: d };
}

function parseTfdt(buf: Buffer, h: BoxHeader): number {
  const c = BoxCursor.of(buf, h);
  const { version } = c.versionFlags();
  return version === 1 ? c.u64() : c.u32();
}

/** Appends one trun's samples; returns the file offset just past its data. */
function parseTrun(
  buf: Buffer,
  h: BoxHeader,
  tf: TfhdInfo,
  dataStart: { base: number; next: number },
  time: { dts: number },
  out: ParsedSample[],
): number {
  const c = BoxCursor.of(buf, h);
  const { version, flags } = c.versionFlags();
  const perSample =
    4 * [TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_CTS].filter((f) => (flags & f) !== 0).length;
  const count = c.u32();
  let offset = flags & TRUN_DATA_OFFSET ? dataStart.base + c.i32() : dataStart.next;
  const firstFlags = flags & TRUN_FIRST_SAMPLE_FLAGS ? c.u32() : undefined;
  // A zero-sized per-sample record would let a 4-byte count demand billions of entries.
  if (perSample === 0 ? count > 1_000_000 : count * perSample > c.remaining) {
    throw mp4Error(`trun: ${count} samples do not fit the box`);
  }
  for (let i = 0; i < count; i++) {
    const duration = flags & TRUN_DURATION ? c.u32() : tf.defaults.duration;
    const size = flags & TRUN_SIZE ? c.u32() : tf.defaults.size;
    let sampleFlags = flags & TRUN_FLAGS ? c.u32() : tf.defaults.flags;
    if (i === 0 && firstFlags !== undefined) sampleFlags = firstFlags;
    const cto = flags & TRUN_CTS ? (version === 0 ? c.u32() : c.i32()) : 0;
    out.push({
      dts: time.dts,
      // v0 is unsigned, but values >= 2^31 only come from writers that meant a negative number.
      compositionOffset: cto | 0,
      duration,
      size,
      offset,
      sync: (sampleFlags & NON_SYNC) === 0,
    });
    time.dts += duration;
    offset += size;
  }
  return offset;
}

/**
 * `buf` holds exactly one moof at offset 0; `moofOffset` is its position in the file.
 * `nextDts` maps a track to the decode time its next sample has when the traf lacks a tfdt
 * (continuation of the previous fragment); it is updated.
 */
export function parseMovieFragment(
  buf: Buffer,
  moofOffset: number,
  trex: ReadonlyMap<number, TrackDefaults>,
  nextDts: Map<number, number>,
): ParsedTrackFragment[] {
  const moof = parseBoxHeader(buf, 0, buf.length);
  if (moof.type !== 'moof') throw mp4Error(`expected moof, got '${moof.type}'`);
  const out: ParsedTrackFragment[] = [];
  let previousEnd = moofOffset; // implicit base of the first traf, 8.8.7.1
  for (const traf of childBoxes(buf, moof.headerSize, moof.size)) {
    if (traf.type !== 'traf') continue;
    const tfhdBox = findChild(buf, traf, 'tfhd');
    if (!tfhdBox) throw mp4Error('traf has no tfhd');
    const tf = parseTfhd(buf, tfhdBox, trex);
    const base = tf.base ?? (tf.baseIsMoof ? moofOffset : previousEnd);
    const tfdtBox = findChild(buf, traf, 'tfdt');
    const time = { dts: tfdtBox ? parseTfdt(buf, tfdtBox) : (nextDts.get(tf.trackId) ?? 0) };
    const data = { base, next: base };
    const samples: ParsedSample[] = [];
    for (const h of childBoxes(buf, traf.start + traf.headerSize, traf.start + traf.size)) {
      if (h.type === 'trun') data.next = parseTrun(buf, h, tf, data, time, samples);
    }
    previousEnd = data.next;
    nextDts.set(tf.trackId, time.dts);
    out.push({ trackId: tf.trackId, samples });
  }
  return out;
}
