import type { Logger } from 'pino';
import type { LiveStream } from '../hub/live-stream.js';
import type { StreamSubscriber } from '../hub/subscriber.js';
import type { TimestampJump } from './timestamp-repair.js';

/** The three recordings, each switched by its own toggle (`record.flv|hls|mp4`). */
export type RecordingKind = 'flv' | 'hls' | 'mp4';

/** What a recorder is given when a publish starts. */
export interface RecordingContext {
  readonly stream: LiveStream;
  /**
   * The recorder's own folder, absolute: `DATA/flv/{app}/{stream}`, `DATA/hls/{app}/{stream}`,
   * `DATA/mp4/{app}/{stream}` (CONTRACT.md). Write nothing before `ready` resolved.
   */
  readonly dir: string;
  /**
   * Resolves once `dir` exists (and, for HLS/MP4, the earlier session was moved aside and the
   * `.recording` marker written). A recorder's first queued write must await it; it rejects
   * when the data directory is not writable.
   */
  readonly ready: Promise<void>;
  /** When the publish started (names the FLV file). */
  readonly startedAt: Date;
  /** The session's id (session-folder.ts sessionId): in segment names, so none is ever reused. */
  readonly sessionId: string;
  readonly log: Logger;
  /** Segment target duration, s: HLS TS segments and fMP4 segments alike (cut on the next keyframe). */
  readonly segmentSeconds: number;
  /** HLS live window, in segments; 0 keeps every segment. */
  readonly hlsWindow: number;
  /** HLS: seconds a segment outlives its removal from the window; undefined: RFC 8216 6.2.2's minimum. */
  readonly hlsGraceSeconds?: number;
  /**
   * HLS: delete the segments that left the live window (nginx-rtmp's hls_cleanup); the ended
   * playlist then lists the window. Off: every segment is kept and listed in the ended VOD playlist.
   */
  readonly hlsCleanup: boolean;
  /** Told once when the recorder stops on an error (a full disk, a write failure): /metrics counts it. */
  readonly onError?: () => void;
}

/** What crash recovery needs to know of the settings. */
export interface RecoveryOptions {
  readonly hlsCleanup: boolean;
}

/**
 * A recorder is a subscriber like any viewer (ARCHITECTURE.md): it turns frames into files.
 * It never blocks the hub (writes are queued, ordered per file, asynchronous) and never throws
 * into it: on a write error it logs one clear line and stops, and live playback and the other
 * recorders go on.
 */
export interface Recorder extends StreamSubscriber {
  readonly kind: RecordingKind;
  /**
   * Finalises the recording (FLV: metadata patched and file closed; HLS: #EXT-X-ENDLIST; MP4:
   * segments merged into {stream}_full.mp4) and removes the `.recording` marker. Called once, after
   * the publisher left or at shutdown. Never rejects: failures are logged.
   */
  finish(reason: string): Promise<void>;
  /** The recording's main files, absolute, once finish() resolved (for `on_record_done`). */
  files(): readonly string[];
}

export interface RecorderFactory {
  readonly kind: RecordingKind;
  create(ctx: RecordingContext): Recorder;
  /**
   * Completes a recording that a crash left unfinished (its folder still holds a `.recording`
   * marker): HLS gets its ENDLIST, MP4 its {stream}_full.mp4. Called at start-up, before any
   * stream is accepted. Never rejects: failures are logged.
   */
  recover(dir: string, log: Logger, opts: RecoveryOptions): Promise<void>;
}

/** Present in a recording folder while its session is live; a crash leaves it behind. */
export const RECORDING_MARKER = '.recording';

/** Jumps logged one by one; after that only every JUMP_LOG_EVERY-th (a publisher can flap). */
const JUMPS_LOGGED = 3;
const JUMP_LOG_EVERY = 100;

/** Logs a timestamp jump a recorder repaired (timestamp-repair.ts), without flooding the log. */
export function logJump(log: Logger, jump: TimestampJump, count: number): void {
  if (count > JUMPS_LOGGED && count % JUMP_LOG_EVERY !== 0) return;
  log.warn(
    { ...jump, jumps: count },
    `the publisher's ${jump.kind} timestamps jumped from ${jump.fromMs} to ${jump.toMs} ms; the recording continues without the gap`,
  );
}
