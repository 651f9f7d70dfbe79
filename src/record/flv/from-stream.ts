import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  audioSequenceHeaderBody,
  flvTagTypeOf,
  frameToFlvBody,
  metadataBody,
  videoSequenceHeaderBody,
} from '../../formats/flv/frame-to-flv.js';
import { encodeFlvHeader } from '../../formats/flv/header.js';
import { encodeFlvTag, FlvTagType } from '../../formats/flv/tag.js';
import type { LiveStream } from '../../hub/live-stream.js';
import type { MediaFrame } from '../../media/frame.js';
import { wrap32 } from '../../media/time.js';
import type { Track } from '../../media/track.js';
import { AppendFile, type Patch } from '../append-file.js';
import { OrderedWriter } from '../ordered-writer.js';
import { logJump, type Recorder, type RecorderFactory, type RecordingContext } from '../recorder.js';
import { sessionStamp } from '../session-folder.js';
import { TimestampRepair } from '../timestamp-repair.js';
import { MetadataPatch } from './metadata-patch.js';
import { FLV_MARKER_SUFFIX, recoverFlvFolder } from './recover.js';

/**
 * `flv/{app}/{stream}/YYYYMMDD_HHMMSS.flv` (`YYYYMMDD_HHMMSS-2.flv`, … for a later session that
 * started in the same second; the file is always created exclusively), written as the stream arrives: a reader can play the
 * file while it grows, and a file cut off by a crash still plays up to its last complete tag
 * (FLV is a plain sequence of tags). onMetaData comes first, with duration and filesize patched
 * in place on a clean end.
 */
class FlvRecorder implements Recorder {
  readonly kind = 'flv' as const;
  private readonly writer: OrderedWriter;
  /** Each append is one whole tag, marked with its timestamp (ms). */
  private readonly file: AppendFile<number>;
  private started = false;
  /** Stream time of the file's 0, so the file starts at 0 whatever the publisher's clock. */
  private base = 0;
  private lastTs = 0;
  private patch: MetadataPatch | undefined;
  private readonly repair = new TimestampRepair();

  constructor(
    private readonly stream: LiveStream,
    ctx: RecordingContext,
    private readonly log: Logger,
  ) {
    this.writer = new OrderedWriter({
      label: 'FLV',
      log,
      onStop: ctx.onError,
      fields: () => ({ file: this.file.path }),
    });
    this.writer.enqueue(() => ctx.ready);
    // Two sessions of one name can start in the same second: the later one gets `-2`, `-3`, …
    this.file = new AppendFile(this.writer, join(ctx.dir, `${sessionStamp(ctx.startedAt)}.flv`), {
      suffixIfTaken: true,
      sidecar: FLV_MARKER_SUFFIX,
      onOpen: (file) => log.info({ file }, 'FLV recording'),
      onCut: (bytes, lastTs) => this.cutPatches(bytes, lastTs ?? 0),
    });
  }

  files(): readonly string[] {
    return [this.file.path];
  }

  onTrack(track: Track): void {
    if (this.started) this.write(this.trackTag(track, this.lastTs), this.lastTs);
  }

  onFrame(input: MediaFrame): void {
    if (this.writer.stopped) return;
    const { frame, jump } = this.repair.fix(input);
    if (jump) logJump(this.log, jump, this.repair.jumps);
    if (!this.started) this.begin(frame.dts);
    const ts = Math.max(0, frame.dts - this.base);
    this.lastTs = Math.max(this.lastTs, ts);
    this.write(encodeFlvTag(flvTagTypeOf(frame), wrap32(ts), frameToFlvBody(frame)), ts);
  }

  async finish(reason: string): Promise<void> {
    if (!this.writer.stopped && this.started && this.patch) {
      this.file.patch(this.patch.durationOffset, MetadataPatch.number(this.lastTs / 1000));
      this.file.patch(this.patch.filesizeOffset, MetadataPatch.number(this.file.size));
    }
    this.file.close();
    await this.writer.drain();
    if (!this.writer.stopped) {
      this.log.info(
        { reason, file: this.file.path, bytes: this.file.size, seconds: this.lastTs / 1000 },
        'FLV recording finished',
      );
    }
  }

  /** Header, metadata (with duration/filesize placeholders) and sequence headers, at the first frame. */
  private begin(dts: number): void {
    this.started = true;
    this.base = dts;
    const s = this.stream;
    this.write(encodeFlvHeader({ audio: s.audioTrack !== undefined, video: s.videoTrack !== undefined }), 0);
    const values = { ...(s.metadata?.values ?? {}), duration: 0, filesize: 0 };
    const body = metadataBody(values);
    this.patch = MetadataPatch.locate(body, this.file.size + 11);
    this.write(encodeFlvTag(FlvTagType.Script, 0, body), 0);
    for (const t of [s.videoTrack, s.audioTrack]) if (t) this.write(this.trackTag(t, 0), 0);
  }

  private trackTag(track: Track, ts: number): Buffer {
    const body = track.kind === 'video' ? videoSequenceHeaderBody(track) : audioSequenceHeaderBody(track);
    if (!body) return Buffer.alloc(0);
    return encodeFlvTag(track.kind === 'video' ? FlvTagType.Video : FlvTagType.Audio, wrap32(ts), body);
  }

  /**
   * A write failed (a full disk): the file was cut after its last whole tag; its duration and
   * size go into onMetaData, so what was recorded plays with the right length.
   */
  private cutPatches(bytes: number, lastTs: number): Patch[] {
    this.log.warn(
      { file: this.file.path, bytes, seconds: lastTs / 1000 },
      'FLV recording cut after its last whole tag; duration and filesize patched',
    );
    if (!this.patch) return [];
    return [
      { position: this.patch.durationOffset, data: MetadataPatch.number(lastTs / 1000) },
      { position: this.patch.filesizeOffset, data: MetadataPatch.number(bytes) },
    ];
  }

  private write(buf: Buffer, ts: number): void {
    this.file.append(buf, ts);
  }
}

export const flvRecorderFactory: RecorderFactory = {
  kind: 'flv',
  create: (ctx) => new FlvRecorder(ctx.stream, ctx, ctx.log),
  recover: recoverFlvFolder,
};
