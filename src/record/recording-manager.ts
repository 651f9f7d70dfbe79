import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { LiveStream } from '../hub/live-stream.js';
import type { StreamHub } from '../hub/stream-hub.js';
import { RECORDING_MARKER, type Recorder, type RecorderFactory, type RecordingKind } from './recorder.js';
import { findUnfinished, prepareSessionFolder, sessionId } from './session-folder.js';

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
export class RecordingManager {
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

  /** Resolves once every recorder that was finishing has finished. */
  async drain(): Promise<void> {
    while (this.finishing.size > 0) await Promise.all([...this.finishing]);
  }

  private start(stream: LiveStream): void {
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
      const p = r.finish(reason).finally(() => this.finishing.delete(p));
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
