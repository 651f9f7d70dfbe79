/**
 * MPEG-TS HLS output: a VOD playlist (RFC 8216 4.3.3.5, EXT-X-ENDLIST) with its segments beside
 * it. Where segments start and how long they last is the HLS recorder's HlsSegmenter (every
 * segment kept, no live window); the bytes are TsMuxer's, PAT + PMT at the start of each segment
 * (RFC 8216 3.2). One segment file is open at a time, written as the frames come.
 */
import { rm } from 'node:fs/promises';
import { renderMediaPlaylist } from '../formats/m3u8/playlist.js';
import { TsMuxer } from '../formats/mpegts/ts-writer.js';
import type { MediaFrame } from '../media/frame.js';
import { HlsSegmenter } from '../record/hls/segmenter.js';
import { FileSink, writeBuffer } from './file-sink.js';
import type { ConvertOutput, OutputStart, OutputSummary } from './output.js';
import { type HlsNames, hlsNames, inDir } from './segment-names.js';

export class HlsTsOutput implements ConvertOutput {
  readonly passes = 1;
  private readonly names: HlsNames;
  private segmenter: HlsSegmenter | undefined;
  private muxer: TsMuxer | undefined;
  private open: FileSink | undefined;
  /** One write buffer for every segment: they are written one at a time. */
  private readonly buffer = writeBuffer();
  private readonly files: string[] = [];
  private bytes = 0;

  constructor(
    private readonly path: string,
    private readonly targetMs: number,
  ) {
    this.names = hlsNames(path, '.ts');
  }

  async begin({ tracks }: OutputStart): Promise<void> {
    // Each frame's packets are copied into the segment's write buffer at once: no Buffers per frame.
    this.muxer = new TsMuxer(tracks, { reuseOutput: true });
    this.segmenter = new HlsSegmenter({ targetMs: this.targetMs, window: 0, keepSegments: true });
    this.segmenter.configure(tracks.video !== undefined, false);
  }

  frame(frame: MediaFrame): Promise<void> | undefined {
    const r = this.segmenter!.push({
      kind: frame.track.kind,
      dts: frame.dts,
      keyframe: frame.keyframe,
      bytes: frame.data.length,
    });
    if (r.drop) return undefined;
    if (r.startsSegment) return this.startSegment(frame);
    return this.open!.write(this.muxer!.writeFrame(frame));
  }

  private async startSegment(frame: MediaFrame): Promise<void> {
    await this.closeSegment();
    const sequence = this.files.length;
    const file = inDir(this.names, this.names.segment(sequence));
    this.open = await FileSink.create(file, this.buffer);
    this.files.push(file);
    await this.open.write(this.muxer!.writeTables());
    await this.open.write(this.muxer!.writeFrame(frame));
  }

  private async closeSegment(): Promise<void> {
    if (!this.open) return;
    this.bytes += this.open.position;
    await this.open.commit();
    this.open = undefined;
  }

  async finish(): Promise<OutputSummary> {
    await this.closeSegment();
    this.segmenter!.finish();
    const playlist = this.segmenter!.playlist(true);
    // The segmenter names segments for the recorder's folders; here they are named after the playlist.
    const segments = playlist.segments.map((s, i) => ({ ...s, uri: this.names.segment(i) }));
    const text = renderMediaPlaylist({ ...playlist, segments });
    const sink = await FileSink.create(this.path);
    await sink.write(Buffer.from(text));
    await sink.commit();
    return { files: [this.path, ...this.files], bytes: this.bytes + text.length };
  }

  async abort(): Promise<void> {
    await this.open?.discard();
    for (const f of this.files) await rm(f, { force: true });
  }
}
