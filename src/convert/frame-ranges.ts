/**
 * Where each frame's bytes lie in the input file, in the order an output took the frames, and the
 * copy of those bytes: fast-start MP4's second pass (mp4-output.ts) writes the mdat from these
 * ranges instead of demuxing the input again. The ranges live in growing typed arrays (16 bytes a
 * frame: ~2 MB for a 30-minute recording, no object per frame); the copy reads the file in big
 * pieces and writes each frame as a slice of the piece it lies in. I/O goes through the callers'
 * reader and writer, so this is pure over Buffers.
 */
import { EstuaryError } from '../errors.js';

function grow<T extends Float64Array | Uint32Array>(arr: T, need: number): T {
  if (need <= arr.length) return arr;
  const next = new (arr.constructor as new (n: number) => T)(Math.max(need, arr.length * 2));
  next.set(arr);
  return next;
}

export class FrameRanges {
  private offsets = new Float64Array(4096);
  private lengths = new Uint32Array(4096);
  /** Each frame's dts, ms: the copy reports how far it got in media time. */
  private times = new Float64Array(4096);
  private n = 0;

  get count(): number {
    return this.n;
  }

  /** Appends the frame whose `length` bytes start at `offset` in the input. */
  add(offset: number, length: number, dtsMs: number): void {
    const i = this.n;
    this.offsets = grow(this.offsets, i + 1);
    this.lengths = grow(this.lengths, i + 1);
    this.times = grow(this.times, i + 1);
    this.offsets[i] = offset;
    this.lengths[i] = length;
    this.times[i] = dtsMs;
    this.n = i + 1;
  }

  offset(i: number): number {
    return this.offsets[i];
  }

  length(i: number): number {
    return this.lengths[i];
  }

  dts(i: number): number {
    return this.times[i];
  }
}

/** Reads `length` bytes at `position` into `buffer` (from its start); returns how many there were. */
export type RangeReader = (buffer: Buffer, length: number, position: number) => number;
/** Takes a copy of `source[start, end)`. */
export type RangeWriter = (source: Buffer, start: number, end: number) => void;
/** Runs between two reads (progress, a turn of the event loop): `done` frames are written so far. */
export type RangePause = (done: number, dtsMs: number) => Promise<void> | undefined;

/**
 * Writes the bytes of every range, in order. `buffer` is the read piece: a frame larger than it
 * gets a bigger one. A read that comes back short means the file changed since the ranges were
 * found (it shrank): that throws, since the output's index already counts those bytes.
 */
export async function copyFrameRanges(
  ranges: FrameRanges,
  read: RangeReader,
  write: RangeWriter,
  buffer: Buffer,
  pause?: RangePause,
): Promise<void> {
  let buf = buffer;
  let start = 0;
  let end = 0;
  for (let i = 0; i < ranges.count; i++) {
    const at = ranges.offset(i);
    const len = ranges.length(i);
    if (at < start || at + len > end) {
      if (i > 0 && pause) await pause(i, ranges.dts(i - 1));
      if (len > buf.length) buf = Buffer.allocUnsafe(len);
      start = at;
      end = at + read(buf, buf.length, at);
      if (end < at + len) {
        throw new EstuaryError(
          'ERR_MP4_FORMAT',
          `the input changed between the two passes: it ends at byte ${end}, frame ${i + 1} ends at ${at + len}`,
        );
      }
    }
    write(buf, at - start, at - start + len);
  }
}
