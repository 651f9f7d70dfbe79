/**
 * Fast-start MP4 output (ftyp, moov, mdat: playback can start before the download ends).
 *
 * The moov lists every sample's size and place, so it can only be written once every frame is
 * known, yet it must come first. Two ways keep memory flat: write the mdat to a temporary file and
 * copy it after the moov (what FFmpeg's `-movflags +faststart` does), or read the input twice.
 * This reads it twice: pass 1 only builds the sample tables (~17 bytes a sample, Mp4Plan) and,
 * for FLV, reads only the tag headers (pusher/flv-size-scan.ts: a few KiB a video frame), pass 2
 * writes ftyp + moov + mdat header and then the frames straight into place. Reading is cheaper
 * than writing (the second read usually comes from the page cache), the output is written once,
 * and no second copy of the media needs disk space. Pass 2 stops after as many frames as pass 1
 * counted, so a file that was truncated stays consistent with its moov. When pass 1 saw where each
 * frame's payload lies in the input (FLV: MediaFrame.fileOffset), pass 2 does not demux at all:
 * it copies those byte ranges (frame-ranges.ts).
 */
import { EstuaryError } from '../errors.js';
import type { MediaFrame } from '../media/frame.js';
import { FileSink } from './file-sink.js';
import { copyFrameRanges, FrameRanges } from './frame-ranges.js';
import { Mp4Plan } from './mp4-plan.js';
import type { ConvertOutput, InputBytes, OutputStart, OutputSummary } from './output.js';

/** Read size of the range copy: a 30-minute recording in ~140 reads. */
const COPY_READ_BYTES = 4 * 1024 * 1024;

export class Mp4Output implements ConvertOutput {
  readonly passes = 2;
  private plan: Mp4Plan | undefined;
  /** Pass 1's frames' places in the input; undefined once a frame came without one. */
  private ranges: FrameRanges | undefined = new FrameRanges();
  private sink: FileSink | undefined;
  private expected = 0;
  private bytes = 0;
  private written = 0;

  constructor(private readonly path: string) {}

  /** Pass 1 builds the sample tables: sizes and times, no media byte (the input's payloads are skipped). */
  sizesOnly(pass: number): boolean {
    return pass === 1;
  }

  async begin(start: OutputStart, pass: number): Promise<void> {
    if (pass === 1) {
      this.plan = new Mp4Plan(start.tracks, start.originMs);
      return;
    }
    await this.writeHeaders();
  }

  private async writeHeaders(): Promise<void> {
    const layout = this.plan!.layout();
    this.expected = this.plan!.frameCount;
    this.bytes = layout.mdatPayloadOffset;
    this.sink = await FileSink.create(this.path);
    await this.sink.writeAll([layout.ftyp, layout.moov, layout.mdatHeader]);
  }

  frame(frame: MediaFrame, pass: number): Promise<void> | undefined {
    if (pass === 1) {
      this.plan!.add(frame);
      if (frame.fileOffset === undefined) this.ranges = undefined;
      else this.ranges?.add(frame.fileOffset, frame.data.length, frame.dts);
      return undefined;
    }
    if (this.written >= this.expected) return undefined;
    this.written++;
    this.bytes += frame.data.length;
    return this.sink!.write(frame.data);
  }

  async copyPass(pass: number, input: InputBytes): Promise<boolean> {
    const ranges = this.ranges;
    if (pass !== 2 || !ranges || !this.plan || ranges.count !== this.plan.frameCount) return false;
    await this.writeHeaders();
    const sink = this.sink!;
    await copyFrameRanges(
      ranges,
      input.read,
      (source, start, end) => {
        sink.writeSlice(source, start, end);
        this.bytes += end - start;
      },
      Buffer.allocUnsafe(COPY_READ_BYTES),
      input.pause,
    );
    this.written = ranges.count;
    return true;
  }

  async finish(): Promise<OutputSummary> {
    const sink = this.sink!;
    if (this.written !== this.expected) {
      throw new EstuaryError(
        'ERR_MP4_FORMAT',
        `the input changed between the two passes: ${this.written} frames of ${this.expected}`,
      );
    }
    await sink.commit();
    return { files: [this.path], bytes: this.bytes };
  }

  async abort(): Promise<void> {
    await this.sink?.discard();
  }
}
