import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { LiveStream } from '../hub/live-stream.js';
import type { StreamHub } from '../hub/stream-hub.js';
import { RECORDING_MARKER, type Recorder, type RecorderFactory, type RecordingKind } from './recorder.js';
import { findUnfinished, moveSessionAside, prepareSessionFolder, sessionId } from './session-folder.js';

export interface RecordingOptions {
  readonly dataDir: string;
  readonly enabled: Readonly<Record<RecordingKind, boolean>>;
  /** Segment target duration, s, of HLS and fMP4 segments. */
  readonly segmentSeconds: number;
  readonly hlsWindow: number;
  readonly hlsGraceSeconds?: number;
  /** HLS: delete the segments that left the live window (default: keep every segment). */
  readonly hlsCleanup?: boolean;
}

/**
 * Starts the enabled recorders when a stream is published and finishes them when it ends.
 * Recorders are ordinary subscribers; the manager only creates, attaches and awaits them.
 */
/** A recording complete on disk (what `on_record_done` tells). */
export interface RecordingDone {
  readonly stream: LiveStream;
  readonly kind: RecordingKind;
  /** The recording's folder and main files, absolute. */
  readonly dir: string;
  readonly files: readonly string[];
}

export class RecordingManager {
  /** Told of each recording once it is complete on disk. */
  onRecordDone: ((done: RecordingDone) => void) | undefined;
  private readonly active = new Map<LiveStream, Recorder[]>();
  /** Recorders that stopped on an error (full disk, write failure, queue over its cap), in total. */
  errors = 0;
  private readonly finishing = new Set<Promise<void>>();
  /**
   * Per stream path, the finishing of its last session (every recorder's finish()). A new session
   * of the same name moves that session's folders aside only once it completed: moving them
   * while its recorders still write (the MP4 merge takes seconds) would make those fail.
   */
  private readonly finishingByPath = new Map<string, Promise<void>>();
  /** Per stream path, the id of its last session in this process (two in one second get -2). */
  private readonly lastSessionId = new Map<string, string>();
  private readonly dataDir: string;
  private readonly dirs = new WeakMap<Recorder, string>();

  constructor(
    private readonly hub: StreamHub,
    private readonly factories: readonly RecorderFactory[],
    private readonly opts: RecordingOptions,
    private readonly log: Logger,
  ) {
    this.dataDir = resolve(opts.dataDir);
    hub.addHooks({
      onPublish: (stream) => this.start(stream),
      onUnpublish: (stream, reason) => this.stop(stream, reason),
    });
  }

  /** Completes what a crash left unfinished. Run before accepting streams. */
  async recover(): Promise<void> {
    for (const f of this.factories) {
      if (!this.opts.enabled[f.kind]) continue;
      for (const dir of await findUnfinished(join(this.dataDir, f.kind))) {
        const log = this.log.child({ recorder: f.kind, dir });
        log.warn('found a recording a crash left unfinished; completing it');
        await f.recover(dir, log, { hlsCleanup: this.opts.hlsCleanup ?? false });
        await rm(join(dir, RECORDING_MARKER), { force: true });
        log.info('recovered');
      }
    }
  }

  /**
   * Completes what a process that died (a worker of `--workers N`) left unfinished for the stream
   * paths it held, while other processes go on recording other streams — so never `recover()`,
   * which would take their live folders for crash leftovers. `moved` resolves once a new session
   * of those names may start (HLS and MP4 folders moved aside as a new session would move them,
   * FLV files repaired in place: a new session there would add its own file beside them); `done`
   * once every recording is complete.
   */
  recoverStreams(paths: readonly string[]): { moved: Promise<void>; done: Promise<void> } {
    const later: (() => Promise<void>)[] = [];
    const moved = (async () => {
      for (const path of paths) {
        const [app, stream] = path.split('/');
        if (!app || !stream) continue;
        for (const f of this.factories) {
          if (!this.opts.enabled[f.kind]) continue;
          const dir = join(this.dataDir, f.kind, app, stream);
          const entries = await readdir(dir).catch(() => [] as string[]);
          if (!entries.some((e) => e.endsWith(RECORDING_MARKER))) continue;
          const log = this.log.child({ recorder: f.kind, path });
          const finish = async (at: string) => {
            log.warn({ dir: at }, 'completing the recording a stopped worker left');
            await f.recover(at, log, { hlsCleanup: this.opts.hlsCleanup ?? false });
            await rm(join(at, RECORDING_MARKER), { force: true });
            log.info({ dir: at }, 'recovered');
          };
          if (f.kind === 'flv') await finish(dir);
          else {
            const aside = await moveSessionAside(dir);
            if (aside) later.push(() => finish(aside));
          }
        }
      }
    })();
    const done = moved.then(async () => {
      for (const run of later) await run().catch((err) => this.log.error({ err }, 'recovery failed'));
    });
    return { moved, done };
  }

  /** Resolves once every recorder that was finishing has finished. */
  async drain(): Promise<void> {
    while (this.finishing.size > 0) await Promise.all([...this.finishing]);
  }

  private start(stream: LiveStream): void {
    // A relay's stream is recorded where it is published (by the worker that holds the publish).
    if (stream.publisher?.relay) return;
    const startedAt = new Date(stream.publishedAt);
    const recorders: Recorder[] = [];
    // The live stream is never held up meanwhile: each recorder queues its writes behind `ready`,
    // within its byte cap.
    const previous = this.finishingByPath.get(stream.path) ?? Promise.resolve();
    const id = sessionId(startedAt, this.lastSessionId.get(stream.path));
    this.lastSessionId.set(stream.path, id);
    for (const f of this.factories) {
      if (!this.opts.enabled[f.kind]) continue;
      const dir = join(this.dataDir, f.kind, stream.name.app, stream.name.stream);
      // FLV keeps one file per session in a shared folder; HLS and MP4 own their folder.
      const ready =
        f.kind === 'flv'
          ? mkdir(dir, { recursive: true }).then(() => undefined)
          : previous.then(() =>
              prepareSessionFolder(dir, {
                app: stream.name.app,
                stream: stream.name.stream,
                startedAt: startedAt.toISOString(),
                id,
              }),
            );
      // The rejection is reported by the recorder, whose first queued write awaits `ready`.
      ready.catch(() => {});
      const recorder = f.create({
        stream,
        dir,
        ready,
        startedAt,
        sessionId: id,
        log: this.log.child({ recorder: f.kind, path: stream.path }),
        segmentSeconds: this.opts.segmentSeconds,
        hlsWindow: this.opts.hlsWindow,
        hlsGraceSeconds: this.opts.hlsGraceSeconds,
        hlsCleanup: this.opts.hlsCleanup ?? false,
        onError: () => {
          this.errors++;
        },
      });
      stream.subscribe(recorder);
      recorders.push(recorder);
      this.dirs.set(recorder, dir);
    }
    if (recorders.length > 0) this.active.set(stream, recorders);
  }

  private stop(stream: LiveStream, reason: string): void {
    const recorders = this.active.get(stream);
    if (!recorders) return;
    this.active.delete(stream);
    const finished: Promise<void>[] = [];
    for (const r of recorders) {
      this.hub.unsubscribe(stream, r);
      const dir = this.dirs.get(r);
      const p = r
        .finish(reason)
        .then(() => {
          if (dir !== undefined) this.onRecordDone?.({ stream, kind: r.kind, dir, files: r.files() });
        })
        .finally(() => this.finishing.delete(p));
      this.finishing.add(p);
      finished.push(p);
    }
    // finish() never rejects; allSettled keeps the next session going even if one did.
    const done = Promise.allSettled(finished).then(() => {
      if (this.finishingByPath.get(stream.path) === done) this.finishingByPath.delete(stream.path);
    });
    this.finishingByPath.set(stream.path, done);
  }
}
