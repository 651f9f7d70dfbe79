/**
 * The MP4 recording (`record.mp4`): fMP4 segments of every track in `output_merge/` (init.mp4 +
 * `seg*.m4s` + index.m3u8, playable by MSE and as fMP4 HLS while they are written), the same
 * samples per track in `output_separate/`, and at the end `output_merge/{stream}_full.mp4`, a
 * fast-start MP4 merged from the segments (merge-mp4.ts).
 *
 * Cutting is segmenter.ts, bytes fragment-run.ts; this file only moves them to disk through an
 * OrderedWriter. The open segment of each output is appended to `{segment}.part` one fragment
 * per video frame (a CMAF chunk: the frames ready so far, segmenter.ts takeChunk), so memory
 * holds about a frame per track and a crash loses about a frame: recovery keeps the `.part` up to
 * its last whole fragment. At the cut the file is renamed to its final name, then the listing
 * that names it is written, so listings name only whole segments. The `.recording` marker goes
 * last, once {stream}_full.mp4 is complete; a crash before that is recovered at start-up.
 *
 * Mid-stream track changes: a repeated sequence header with the same configuration is ignored; a
 * real change (new SPS, other sample rate) ends the MP4 recording at that point (one init segment
 * and one complete MP4 hold one configuration per track) with a warning; FLV and HLS go on.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { errorMessage } from '../../errors.js';
import { sampleEntry } from '../../formats/mp4/sample-entry-boxes.js';
import type { MediaFrame } from '../../media/frame.js';
import { describeTrack, type Track } from '../../media/track.js';
import { AppendFile } from '../append-file.js';
import { OrderedWriter, writeFileAtomic } from '../ordered-writer.js';
import {
  logJump,
  RECORDING_MARKER,
  type Recorder,
  type RecorderFactory,
  type RecordingContext,
} from '../recorder.js';
import { TimestampRepair } from '../timestamp-repair.js';
import { FragmentRun, type OutputName } from './fragment-run.js';
import {
  fullMp4Name,
  type ListedSegment,
  MERGE_DIR,
  OUTPUTS,
  outputPath,
  PART_SUFFIX,
  renderListing,
  SEPARATE_DIR,
  segmentName,
  streamOfFolder,
} from './layout.js';
import { mergeFragments } from './merge-mp4.js';
import {
  MASTER_PLAYLIST,
  META_FILE,
  mergedMeta,
  type RecordingTracks,
  separateMaster,
  separateMeta,
} from './meta.js';
import { recoverMp4Recording } from './recover.js';
import { type Chunk, type Segment, Segmenter } from './segmenter.js';

/** Whether MP4 can carry the track; the reason (naming the supported set) when not. */
function unsupportedReason(track: Track): string | undefined {
  try {
    sampleEntry(track);
    return undefined;
  } catch (err) {
    return errorMessage(err);
  }
}

/** One output's segment being written. */
interface OpenSegment {
  file: AppendFile;
  uri: string;
  /** Media seconds written to it so far (EXTINF once it closes). */
  seconds: number;
}

class Mp4Recorder implements Recorder {
  readonly kind = 'mp4' as const;
  private readonly writer: OrderedWriter;
  private readonly segmenter: Segmenter;
  private run: FragmentRun | undefined;
  private readonly listed: Record<OutputName, ListedSegment[]> = { merged: [], video: [], audio: [] };
  private readonly open: Partial<Record<OutputName, OpenSegment>> = {};
  private readonly checked = new WeakMap<Track, boolean>();
  /** The run ended (track change): frames are ignored, finish() still finalises. */
  private ended = false;
  private readonly notes = new Set<string>();
  private readonly repair = new TimestampRepair();
  /** `output_merge/{stream}_full.mp4`, once merged. */
  private fullPath: string | undefined;

  constructor(
    private readonly ctx: RecordingContext,
    private readonly log: Logger,
  ) {
    this.segmenter = new Segmenter({ targetMs: ctx.segmentSeconds * 1000 });
    this.writer = new OrderedWriter({
      label: 'MP4',
      log,
      onStop: ctx.onError,
      fields: () => ({ dir: ctx.dir }),
    });
    this.writer.enqueue(async () => {
      await ctx.ready;
      await mkdir(join(ctx.dir, MERGE_DIR), { recursive: true });
      await mkdir(join(ctx.dir, SEPARATE_DIR), { recursive: true });
    });
    for (const t of [ctx.stream.videoTrack, ctx.stream.audioTrack]) if (t) this.onTrack(t);
    log.info({ dir: ctx.dir }, 'MP4 recording');
  }

  onTrack(track: Track): void {
    if (this.supported(track)) this.segmenter.announce(track);
  }

  onFrame(input: MediaFrame): void {
    if (this.writer.stopped || this.ended || !this.supported(input.track)) return;
    const { frame, jump } = this.repair.fix(input);
    if (jump) logJump(this.log, jump, this.repair.jumps);
    const r = this.segmenter.push(frame);
    if (r.kind === 'segment') this.write(r.segment);
    else if (r.kind === 'buffered') {
      const chunk = this.segmenter.takeChunk();
      if (chunk) this.writeChunk(chunk);
    } else if (r.kind === 'dropped' && r.why === 'late-track') {
      this.noteOnce(
        `late-${frame.track.kind}`,
        { track: describeTrack(frame.track) },
        'a track that began after the recording is not in the MP4 recording',
      );
    } else if (r.kind === 'changed') {
      this.log.warn(
        { track: describeTrack(r.track) },
        'track configuration changed mid-stream: the MP4 recording ends here (one configuration per track); other recordings go on',
      );
      this.ended = true;
      this.writeLast();
    }
  }

  files(): readonly string[] {
    const playlist = outputPath(this.ctx.dir, OUTPUTS[0], OUTPUTS[0].playlist);
    return this.fullPath ? [this.fullPath, playlist] : [playlist];
  }

  async finish(reason: string): Promise<void> {
    try {
      if (!this.writer.stopped && !this.ended) this.writeLast();
      if (this.run) this.writeListings(true);
      await this.writer.drain();
      if (this.writer.stopped) {
        this.log.warn({ reason }, 'MP4 recording incomplete; the next start will recover what is on disk');
        return;
      }
      const segments = this.listed.merged.map((s) => outputPath(this.ctx.dir, OUTPUTS[0], s.uri));
      if (segments.length > 0) {
        const init = outputPath(this.ctx.dir, OUTPUTS[0], OUTPUTS[0].init);
        const full = fullMp4Name(streamOfFolder(this.ctx.dir));
        const result = await mergeFragments(init, segments, join(this.ctx.dir, MERGE_DIR, full));
        this.fullPath = join(this.ctx.dir, MERGE_DIR, full);
        this.writeMeta(true, full);
        await this.writer.drain();
        this.log.info({ reason, file: full, segments: segments.length, ...result }, 'MP4 recording finished');
      } else {
        this.log.info({ reason }, 'MP4 recording finished with no media');
      }
      await this.ctx.ready;
      await rm(join(this.ctx.dir, RECORDING_MARKER), { force: true });
    } catch (err) {
      this.log.error({ reason, err: errorMessage(err) }, 'MP4 recording could not be finalised');
    }
  }

  private supported(track: Track): boolean {
    let ok = this.checked.get(track);
    if (ok === undefined) {
      const why = unsupportedReason(track);
      ok = why === undefined;
      this.checked.set(track, ok);
      if (why) this.noteOnce(`codec-${track.kind}`, { track: describeTrack(track) }, `track skipped: ${why}`);
    }
    return ok;
  }

  /** What the segmenter still holds, as the last segment. */
  private writeLast(): void {
    const last = this.segmenter.flush();
    if (last) this.write(last);
    else this.closeSegments();
  }

  /** The last chunk of a segment, then the segment closes. */
  private write(seg: Segment): void {
    if (seg.forced)
      this.noteOnce(
        'forced',
        { startMs: seg.startMs },
        'no keyframe within the segment limit: cut between keyframes',
      );
    this.writeChunk(seg);
    this.closeSegments();
  }

  private writeChunk(chunk: Chunk): void {
    if (this.writer.stopped) return;
    if (!this.run) {
      this.run = new FragmentRun(
        { video: this.segmenter.video, audio: this.segmenter.audio },
        this.segmenter.originMs!,
      );
      for (const o of OUTPUTS) {
        const init = this.run.inits[o.name];
        if (init) this.enqueueFile(outputPath(this.ctx.dir, o, o.init), init);
      }
      // With the inits, what an MSE player needs to open its SourceBuffers (updated at the end).
      this.writeMeta(false);
    }
    const built = this.run.build(chunk);
    for (const o of OUTPUTS) {
      const out = built[o.name];
      if (!out) continue;
      let seg = this.open[o.name];
      if (!seg) {
        const uri = segmentName(o, this.listed[o.name].length + 1, this.ctx.sessionId);
        const file = new AppendFile(this.writer, outputPath(this.ctx.dir, o, `${uri}${PART_SUFFIX}`));
        seg = { file, uri, seconds: 0 };
        this.open[o.name] = seg;
      }
      seg.seconds += out.seconds;
      for (const part of out.parts) seg.file.append(part);
    }
  }

  /** Every output's open segment gets its final name, then the listings that name them. */
  private closeSegments(): void {
    if (this.writer.stopped) return;
    const { merged, video, audio } = this.open;
    for (const o of OUTPUTS) {
      const seg = this.open[o.name];
      if (!seg) continue;
      this.open[o.name] = undefined;
      seg.file.closeAs(outputPath(this.ctx.dir, o, seg.uri));
      // The merged EXTINF is its video's duration, as segments are cut on video keyframes.
      const seconds =
        o.name === 'merged' ? (video?.seconds ?? audio?.seconds ?? merged!.seconds) : seg.seconds;
      this.listed[o.name].push({ uri: seg.uri, seconds, bytes: seg.file.size });
    }
    this.writeListings(false);
  }

  private writeListings(ended: boolean): void {
    for (const o of OUTPUTS) {
      if (!this.run?.inits[o.name]) continue;
      const text = renderListing(o, this.listed[o.name], this.ctx.segmentSeconds, ended);
      this.enqueueFile(outputPath(this.ctx.dir, o, o.playlist), text);
    }
    // The master names the per-track playlists; its BANDWIDTH follows the segments' peak.
    if (this.run)
      this.enqueueFile(
        join(this.ctx.dir, SEPARATE_DIR, MASTER_PLAYLIST),
        separateMaster(this.tracks(), this.listed),
      );
  }

  private tracks(): RecordingTracks {
    return { video: this.segmenter.video, audio: this.segmenter.audio };
  }

  /** meta.json of both outputs; `full` names the complete MP4 once it is written. */
  private writeMeta(ended: boolean, full?: string): void {
    const json = (o: object) => `${JSON.stringify(o, null, 2)}\n`;
    const tracks = this.tracks();
    this.enqueueFile(
      join(this.ctx.dir, MERGE_DIR, META_FILE),
      json(mergedMeta(tracks, this.listed, ended, full)),
    );
    this.enqueueFile(
      join(this.ctx.dir, SEPARATE_DIR, META_FILE),
      json(separateMeta(tracks, this.listed, ended)),
    );
  }

  private enqueueFile(path: string, data: Buffer | string): void {
    this.writer.enqueue(() => writeFileAtomic(path, data), data.length);
  }

  private noteOnce(key: string, fields: object, message: string): void {
    if (this.notes.has(key)) return;
    this.notes.add(key);
    this.log.warn(fields, message);
  }
}

export const mp4RecorderFactory: RecorderFactory = {
  kind: 'mp4',
  create: (ctx) => new Mp4Recorder(ctx, ctx.log),
  recover: recoverMp4Recording,
};
