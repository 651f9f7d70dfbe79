/**
 * What the converter asks of an output format. An output gets the track set once, then the
 * frames in decode order (already shifted to start at 0 or above), then `finish`. Fast-start MP4
 * wants the frames twice (see mp4-output.ts), so an output says how many passes it needs and the
 * converter reads the input that many times.
 */
import type { MediaFrame } from '../media/frame.js';
import type { RangePause, RangeReader } from './frame-ranges.js';
import type { OutputTracks } from './track-gate.js';

export interface OutputSummary {
  /** Every file written, the main one first (HLS: the playlist, then init and segments). */
  files: string[];
  bytes: number;
}

export interface OutputStart {
  tracks: OutputTracks;
  /** The smallest dts among the first frames: what becomes time 0 in outputs that start at 0. */
  originMs: number;
}

/** The input as bytes, for a pass an output makes by copying ranges of it (ConvertOutput.copyPass). */
export interface InputBytes {
  read: RangeReader;
  /** Between reads: progress and a turn of the event loop; throws when the conversion is stopped. */
  pause: RangePause;
}

export interface ConvertOutput {
  readonly passes: 1 | 2;
  /**
   * True for a pass that uses only each frame's size, times and flags, not its bytes: the source
   * may then skip the payloads (BatchOptions.sizesOnly) and `frame.data` has unspecified bytes.
   */
  sizesOnly?(pass: number): boolean;
  /** Called at the start of each pass (from 1) with the tracks the output carries. */
  begin(start: OutputStart, pass: number): Promise<void>;
  /**
   * One frame; a returned promise must be awaited before the next frame (the disk's backpressure).
   * `frame.data` is lent: the source reads into the same buffers again once the call (and its
   * promise) is done, so an output that keeps a frame past that copies its data.
   */
  frame(frame: MediaFrame, pass: number): Promise<void> | undefined;
  /**
   * Makes the pass from the input's bytes instead of its frames, when it can: fast-start MP4's
   * pass 2 copies the frame payloads whose places pass 1 saw (MediaFrame.fileOffset), with no
   * second demux. In place of begin and frame for that pass; false when it cannot (a frame came
   * without its place, e.g. from an MP4 input), and the pass then reads the frames.
   */
  copyPass?(pass: number, input: InputBytes): Promise<boolean>;
  /** After the last pass: closes the files and puts them in place. */
  finish(): Promise<OutputSummary>;
  /** On failure: removes what was written. */
  abort(): Promise<void>;
}
