/**
 * FLV output: header, onMetaData, sequence headers, then one tag per frame (FlvMuxer), written
 * through a FileSink. onMetaData's duration and filesize are unknown until the end, so they are
 * written as 0 and patched in place once the last tag is out (as the FLV recorder does).
 */
import { FlvMuxer } from '../formats/flv/flv-muxer.js';
import type { MediaFrame } from '../media/frame.js';
import { metadataValues } from '../pusher/source-metadata.js';
import { MetadataPatch } from '../record/flv/metadata-patch.js';
import { FileSink } from './file-sink.js';
import type { ConvertOutput, OutputStart, OutputSummary } from './output.js';

export class FlvOutput implements ConvertOutput {
  readonly passes = 1;
  private sink: FileSink | undefined;
  private muxer: FlvMuxer | undefined;
  private patch: MetadataPatch | undefined;
  private lastDts = 0;

  constructor(private readonly path: string) {}

  async begin({ tracks }: OutputStart): Promise<void> {
    this.muxer = new FlvMuxer(tracks);
    const values = {
      ...metadataValues([tracks.video, tracks.audio].filter((t) => t !== undefined)),
      encoder: 'Estuary convert',
      duration: 0,
      filesize: 0,
    };
    const head = this.muxer.head(values);
    this.patch = MetadataPatch.locate(head.metadataBody, head.metadataBodyOffset);
    this.sink = await FileSink.create(this.path);
    await this.sink.write(head.bytes);
  }

  frame(frame: MediaFrame): Promise<void> | undefined {
    this.lastDts = Math.max(this.lastDts, frame.dts);
    const tags = this.muxer!.frame(frame);
    if (tags.length === 1) return this.sink!.write(tags[0]);
    return this.sink!.writeAll(tags);
  }

  async finish(): Promise<OutputSummary> {
    const sink = this.sink!;
    const bytes = sink.position;
    // onMetaData duration is in seconds (E.5).
    await sink.patch(MetadataPatch.number(this.lastDts / 1000), this.patch!.durationOffset);
    await sink.patch(MetadataPatch.number(bytes), this.patch!.filesizeOffset);
    await sink.commit();
    return { files: [this.path], bytes };
  }

  async abort(): Promise<void> {
    await this.sink?.discard();
  }
}
