/**
 * fMP4 outputs: one fragmented .mp4 (init, then a moof + mdat per segment) or fMP4 HLS (an init
 * segment, one .m4s per segment and a VOD playlist with EXT-X-MAP). Where segments are cut is
 * the fMP4 recorder's Segmenter (a video keyframe at least the target after the segment began),
 * the bytes are Fmp4Muxer's; only one segment's frames are held at a time.
 */
import { rm } from 'node:fs/promises';
import { EstuaryError } from '../errors.js';
import { renderMediaPlaylist } from '../formats/m3u8/playlist.js';
import { type Fmp4Fragment, Fmp4Muxer } from '../formats/mp4/fmp4-muxer.js';
import type { MediaFrame } from '../media/frame.js';
import { type Segment, Segmenter } from '../record/fmp4/segmenter.js';
import { FileSink, writeBuffer } from './file-sink.js';
import type { ConvertOutput, OutputStart, OutputSummary } from './output.js';
import { type HlsNames, hlsNames, inDir } from './segment-names.js';

/** RFC 8216 7: EXT-X-MAP without EXT-X-I-FRAMES-ONLY needs version 6. */
const FMP4_PLAYLIST_VERSION = 6;

abstract class Fmp4Base implements ConvertOutput {
  readonly passes = 1;
  protected muxer: Fmp4Muxer | undefined;
  private segmenter: Segmenter | undefined;

  constructor(protected readonly targetMs: number) {}

  async begin({ tracks }: OutputStart): Promise<void> {
    this.segmenter = new Segmenter({ targetMs: this.targetMs });
    if (tracks.video) this.segmenter.announce(tracks.video);
    if (tracks.audio) this.segmenter.announce(tracks.audio);
    await this.open();
  }

  frame(frame: MediaFrame): Promise<void> | undefined {
    // The segmenter keeps a segment's frames, and frame data is only lent (output.ts): copy it.
    const r = this.segmenter!.push({ ...frame, data: Buffer.from(frame.data) });
    if (r.kind === 'changed') {
      throw new EstuaryError(
        'ERR_CODEC_UNSUPPORTED',
        `the ${r.track.kind} configuration changes at ${(frame.dts / 1000).toFixed(3)} s; an fMP4 init ` +
          'segment holds one sample description per track, so the output stops there',
      );
    }
    if (r.kind !== 'segment') return undefined;
    return this.segment(r.segment);
  }

  async finish(): Promise<OutputSummary> {
    const last = this.segmenter!.flush();
    if (last) await this.segment(last);
    return this.close();
  }

  private segment(seg: Segment): Promise<void> {
    // The muxer's decode time 0 is where the segmenter started the recording.
    this.muxer ??= new Fmp4Muxer(
      { video: this.segmenter!.video, audio: this.segmenter!.audio },
      { originMs: this.segmenter!.originMs },
    );
    const frag = this.muxer.fragment(seg);
    return frag ? this.write(frag) : Promise.resolve();
  }

  protected abstract open(): Promise<void>;
  protected abstract write(frag: Fmp4Fragment): Promise<void>;
  protected abstract close(): Promise<OutputSummary>;
  abstract abort(): Promise<void>;
}

/** One fragmented .mp4 file. */
export class Fmp4FileOutput extends Fmp4Base {
  private sink: FileSink | undefined;
  private initWritten = false;

  constructor(
    private readonly path: string,
    targetMs: number,
  ) {
    super(targetMs);
  }

  protected async open(): Promise<void> {
    this.sink = await FileSink.create(this.path);
  }

  protected async write(frag: Fmp4Fragment): Promise<void> {
    if (!this.initWritten) {
      this.initWritten = true;
      await this.sink!.write(this.muxer!.init);
    }
    await this.sink!.writeAll(frag.parts);
  }

  protected async close(): Promise<OutputSummary> {
    const bytes = this.sink!.position;
    await this.sink!.commit();
    return { files: [this.path], bytes };
  }

  async abort(): Promise<void> {
    await this.sink?.discard();
  }
}

/** fMP4 HLS: init segment, .m4s segments and a VOD playlist (RFC 8216 4.3.3.5). */
export class HlsFmp4Output extends Fmp4Base {
  private readonly names: HlsNames;
  private readonly segments: { uri: string; duration: number }[] = [];
  private readonly files: string[] = [];
  private bytes = 0;
  private readonly buffer = writeBuffer();

  constructor(
    private readonly path: string,
    targetMs: number,
  ) {
    super(targetMs);
    this.names = hlsNames(path, '.m4s');
  }

  protected async open(): Promise<void> {}

  protected async write(frag: Fmp4Fragment): Promise<void> {
    if (this.segments.length === 0) await this.writeFile(this.names.init, [this.muxer!.init]);
    const uri = this.names.segment(this.segments.length);
    await this.writeFile(uri, frag.parts);
    this.segments.push({ uri, duration: frag.seconds });
  }

  private async writeFile(uri: string, parts: Buffer[]): Promise<void> {
    const sink = await FileSink.create(inDir(this.names, uri), this.buffer);
    try {
      await sink.writeAll(parts);
      this.bytes += sink.position;
      await sink.commit();
    } catch (err) {
      await sink.discard();
      throw err;
    }
    this.files.push(inDir(this.names, uri));
  }

  protected async close(): Promise<OutputSummary> {
    const text = renderMediaPlaylist({
      version: FMP4_PLAYLIST_VERSION,
      targetDuration: this.targetMs / 1000,
      mediaSequence: 0,
      playlistType: 'VOD',
      independentSegments: true,
      map: { uri: this.names.init },
      segments: this.segments,
      ended: true,
    });
    const sink = await FileSink.create(this.path);
    await sink.write(Buffer.from(text));
    await sink.commit();
    return { files: [this.path, ...this.files], bytes: this.bytes + text.length };
  }

  async abort(): Promise<void> {
    for (const f of this.files) await rm(f, { force: true });
  }
}
