import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { errorMessage } from '../../errors.js';
import { renderMediaPlaylist } from '../../formats/m3u8/playlist.js';
import { isTsCodecSupported, TsMuxer, type TsMuxerTracks } from '../../formats/mpegts/ts-writer.js';
import type { LiveStream } from '../../hub/live-stream.js';
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
import { recoverHlsFolder } from './recover.js';
import {
  HlsSegmenter,
  PART_SUFFIX,
  PLAYLIST_NAME,
  type PushResult,
  type SegmentRecord,
} from './segmenter.js';

/** What the TS muxer carries (isTsCodecSupported), for log lines that name the supported set. */
const SUPPORTED = 'HLS (MPEG-TS) carries video H.264, H.265 and audio AAC, MP3';

/**
 * `hls/{app}/{stream}/index.m3u8` + `segment_NNNNN.ts`, live: the subscriber glue between the
 * stream, the segmenter (timing), the TS muxer (bytes) and the ordered file writes. The open
 * segment's packets are appended to `segment_NNNNN.ts.part` frame by frame (nothing is held in
 * memory, and a crash leaves every frame written so far for recovery to salvage); when the
 * segment closes the file is renamed to its final name, then the playlist that lists it is
 * written, then the files that left the window are deleted; `#EXT-X-ENDLIST` ends the playlist
 * when the stream ends.
 */
class HlsRecorder implements Recorder {
  readonly kind = 'hls' as const;
  private readonly writer: OrderedWriter;
  private readonly segmenter: HlsSegmenter;
  private readonly dir: string;
  private muxer: TsMuxer | undefined;
  /** What the current muxer's PMT lists. */
  private muxTracks: TsMuxerTracks = {};
  /** The stream's tracks changed: the next segment gets a new muxer (and a discontinuity). */
  private reconfigure = false;
  /** The open segment's file (`.part` until it closes). */
  private part: AppendFile | undefined;
  private segmentsWritten = 0;
  private badFrames = 0;
  /** Whether the TS muxer takes each track seen, decided (and any refusal logged) once per track. */
  private readonly usable = new WeakMap<Track, boolean>();
  private nothingToRecordLogged = false;
  private readonly repair = new TimestampRepair();
  private finished = false;

  constructor(
    private readonly stream: LiveStream,
    ctx: RecordingContext,
    private readonly log: Logger,
  ) {
    this.dir = ctx.dir;
    this.writer = new OrderedWriter({
      label: 'HLS',
      log,
      onStop: ctx.onError,
      fields: () => ({ dir: this.dir }),
    });
    this.writer.enqueue(() => ctx.ready);
    this.segmenter = new HlsSegmenter({
      targetMs: Math.round(ctx.segmentSeconds * 1000),
      window: ctx.hlsWindow,
      keepSegments: !ctx.hlsCleanup,
      session: ctx.sessionId,
      graceMs: ctx.hlsGraceSeconds === undefined ? undefined : Math.round(ctx.hlsGraceSeconds * 1000),
    });
    log.info({ dir: ctx.dir }, 'HLS recording');
  }

  onTrack(track: Track): void {
    this.canCarry(track);
  }

  onFrame(input: MediaFrame): void {
    if (this.writer.stopped || this.finished) return;
    const { frame, jump } = this.repair.fix(input);
    if (jump) logJump(this.log, jump, this.repair.jumps);
    if (!this.canCarry(frame.track)) {
      this.checkAnythingToRecord();
      return;
    }
    try {
      this.mux(frame);
    } catch (err) {
      // A malformed frame costs that frame, never the recording or the hub (STYLE.md habit 12).
      if (this.badFrames++ === 0) {
        this.log.warn({ err }, 'HLS: a frame could not be muxed and was skipped (later ones are counted)');
      }
    }
  }

  files(): readonly string[] {
    return [join(this.dir, PLAYLIST_NAME)];
  }

  async finish(reason: string): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    if (!this.writer.stopped) {
      const r = this.segmenter.finish();
      if (r.closed) this.writeSegment(r.closed);
      // No segment at all (nothing the TS muxer carries): no playlist either.
      if (this.segmentsWritten > 0) this.writePlaylist(true);
      this.deleteExpired(r);
      // Last: a crash before this point leaves the marker, and the next start recovers the folder.
      this.writer.enqueue(() => rm(join(this.dir, RECORDING_MARKER), { force: true }));
    }
    await this.writer.drain();
    if (!this.writer.stopped) {
      this.log.info(
        { reason, dir: this.dir, segments: this.segmentsWritten, badFrames: this.badFrames },
        'HLS recording finished',
      );
    }
  }

  private mux(frame: MediaFrame): void {
    const wanted = this.wantedTracks(frame.track);
    if (!this.muxer) {
      this.segmenter.configure(wanted.video !== undefined, false);
    } else if (!this.reconfigure && !sameCodecs(this.muxTracks, wanted)) {
      this.reconfigure = true;
      this.segmenter.configure(wanted.video !== undefined, true);
      this.log.info(
        { tracks: [wanted.video, wanted.audio].filter((t) => t !== undefined).map(describeTrack) },
        'HLS: the tracks changed; a new segment with EXT-X-DISCONTINUITY starts at the next cut point',
      );
    }
    const r = this.segmenter.push({
      kind: frame.track.kind,
      dts: frame.dts,
      keyframe: frame.keyframe,
      bytes: frame.data.length,
    });
    if (r.drop) return;
    if (r.closed) this.writeSegment(r.closed);
    if (r.startsSegment) {
      if (!this.muxer || this.reconfigure) {
        // Continuity counters carry on across the new PMT (ISO/IEC 13818-1 2.4.3.3).
        this.muxer = new TsMuxer(wanted, { counters: this.muxer?.counters });
        this.muxTracks = wanted;
        this.reconfigure = false;
      }
      this.openPart(this.muxer.writeTables());
    }
    this.deleteExpired(r);
    // A track the current PMT does not list waits for the segment that announces it.
    if (!carries(this.muxTracks, frame.track) || !this.muxer || !this.part) return;
    this.appendPart(this.muxer.writeFrame(frame));
  }

  /** The stream's current tracks the TS muxer can carry (the frame's own track for its kind). */
  private wantedTracks(track: Track): TsMuxerTracks {
    const video = track.kind === 'video' ? track : this.stream.videoTrack;
    const audio = track.kind === 'audio' ? track : this.stream.audioTrack;
    return {
      video: video && this.canCarry(video) ? video : undefined,
      audio: audio && this.canCarry(audio) ? audio : undefined,
    };
  }

  private openPart(tables: Buffer): void {
    const uri = this.segmenter.openUri;
    if (this.writer.stopped || !uri) return;
    this.part = new AppendFile(this.writer, join(this.dir, `${uri}${PART_SUFFIX}`));
    this.appendPart(tables);
  }

  private appendPart(data: Buffer): void {
    this.part?.append(data);
  }

  private writeSegment(segment: SegmentRecord): void {
    const part = this.part;
    this.part = undefined;
    if (this.writer.stopped || !part) return;
    this.segmentsWritten++;
    part.closeAs(join(this.dir, segment.uri));
    this.writePlaylist(false);
  }

  private writePlaylist(ended: boolean): void {
    // Rendered now: the playlist must describe exactly the segments queued before it.
    const text = renderMediaPlaylist(this.segmenter.playlist(ended));
    this.writer.enqueue(() => writeFileAtomic(join(this.dir, PLAYLIST_NAME), text), text.length);
  }

  private deleteExpired(r: PushResult): void {
    for (const s of r.expired) this.writer.enqueue(() => rm(join(this.dir, s.uri), { force: true }));
  }

  /**
   * Whether the TS muxer takes the track: a codec it carries, with a configuration record it can
   * read. A refused track is skipped with one log line naming the supported set (MediaMTX style).
   */
  private canCarry(track: Track): boolean {
    const known = this.usable.get(track);
    if (known !== undefined) return known;
    let reason = SUPPORTED;
    let ok = isTsCodecSupported(track);
    if (ok) {
      try {
        // Parses the configuration record the way the real muxer will, so that one cannot throw.
        new TsMuxer(track.kind === 'video' ? { video: track } : { audio: track });
      } catch (err) {
        ok = false;
        reason = errorMessage(err);
      }
    }
    this.usable.set(track, ok);
    if (ok) return true;
    this.log.warn(
      { track: describeTrack(track) },
      `HLS: skipping the ${track.kind} ${track.codec} track; ${reason}`,
    );
    return false;
  }

  /** Once frames flow the stream's tracks are known: say so once when none of them can be carried. */
  private checkAnythingToRecord(): void {
    if (this.nothingToRecordLogged) return;
    const tracks = [this.stream.videoTrack, this.stream.audioTrack].filter((t) => t !== undefined);
    if (tracks.some((t) => this.canCarry(t))) return;
    this.nothingToRecordLogged = true;
    this.log.warn(`HLS: the stream has no track HLS can carry (${SUPPORTED}); recording nothing`);
  }
}

function sameCodecs(a: TsMuxerTracks, b: TsMuxerTracks): boolean {
  return a.video?.codec === b.video?.codec && a.audio?.codec === b.audio?.codec;
}

/** Whether a muxer built for `tracks` takes frames of `track` (a new config of the same codec is fine). */
function carries(tracks: TsMuxerTracks, track: Track): boolean {
  return tracks[track.kind]?.codec === track.codec;
}

export const hlsRecorderFactory: RecorderFactory = {
  kind: 'hls',
  create: (ctx) => new HlsRecorder(ctx.stream, ctx, ctx.log),
  recover: recoverHlsFolder,
};
