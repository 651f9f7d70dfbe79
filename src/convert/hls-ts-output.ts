/**
 * MPEG-TS HLS output: a VOD playlist (RFC 8216 4.3.3.5, EXT-X-ENDLIST) with its segments beside
 * it. Where segments start and how long they last is the HLS recorder's HlsSegmenter (every
 * segment kept, no live window); the bytes are TsMuxer's, PAT + PMT at the start of each segment
 * (RFC 8216 3.2). One segment file is open at a time, written as the frames come; the one before
 * it is closed and renamed into place meanwhile (each segment has its own write buffer of two, so
 * the muxer does not wait for a file's close and rename before it goes on).
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
  /** Two write buffers, used by the segments in turn: one fills while the other's file closes. */
  private readonly buffers = [writeBuffer(), writeBuffer()];
  /** The previous segment's commit, under way. */
  private closing: Promise<void> | undefined;
  /** The next segment's file, opened ahead so a new segment does not wait for an open. */
  private next: Promise<FileSink> | undefined;
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
    const before = this.closing;
    this.closing = this.closeSegment();
    // The segment before the previous one used the buffer this one takes: it must be done.
    if (before) await before;
    const sequence = this.files.length;
    const next = this.next ?? this.openSegment(sequence);
    this.next = undefined;
    this.open = await next;
    this.files.push(this.open.path);
    this.next = this.openSegment(sequence + 1);
    await this.open.write(this.muxer!.writeTables());
    await this.open.write(this.muxer!.writeFrame(frame));
  }

  private openSegment(sequence: number): Promise<FileSink> {
    const file = inDir(this.names, this.names.segment(sequence));
    const p = FileSink.create(file, this.buffers[sequence % 2]);
    p.catch(() => {}); // thrown where it is awaited
    return p;
  }

  /** Closes and removes the segment file opened ahead and not needed. */
  private async dropNext(): Promise<void> {
    const next = this.next;
    this.next = undefined;
    const sink = await next?.catch(() => undefined);
    await sink?.discard();
  }

  /** Starts closing the open segment (awaited by the next startSegment or finish). */
  private closeSegment(): Promise<void> | undefined {
    const open = this.open;
    if (!open) return undefined;
    this.bytes += open.position;
    this.open = undefined;
    const p = open.commit();
    p.catch(() => {}); // thrown where it is awaited, not as an unhandled rejection
    return p;
  }

  async finish(): Promise<OutputSummary> {
    const before = this.closing;
    this.closing = undefined;
    const last = this.closeSegment();
    await before;
    await last;
    await this.dropNext();
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
    await this.closing?.catch(() => {});
    await this.dropNext().catch(() => {});
    await this.open?.discard();
    for (const f of this.files) await rm(f, { force: true });
  }
}
