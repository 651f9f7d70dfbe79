/**
 * One connection watching a stream through a fan-out. The session that owns the socket
 * implements this; the fan-out only ever hands it Buffers shared with every other viewer.
 */
export interface Viewer {
  /** Queues bytes on the connection (never copies them per viewer). */
  write(buf: Buffer): void;
  /** Bytes queued on the connection and not yet sent (socket.writableLength or equivalent). */
  readonly buffered: number;
  /** Closes the connection; the session logs `reason` once. */
  close(reason: string): void;
  /** The publisher left. HTTP viewers end their response; an RTMP player is told and may wait. */
  streamEnded(reason: string): void;
  /** A publisher started while this viewer was waiting (RTMP play before publish). */
  streamStarted?(): void;
}

export interface ViewerBudget {
  /** Bytes a viewer may have queued before it is skipped forward to the next keyframe. */
  readonly maxBufferedBytes: number;
  /** A viewer skipping for longer than this (it cannot drain even one GOP) is closed. */
  readonly stallTimeoutMs: number;
  /**
   * The fan-out's write rate for a large audience (fan-out.ts): the flush spacing is 1 ms per this
   * many viewers. Default 32; a `--workers N` process gets its 1/N share (viewerBudget).
   */
  readonly writesPerMs?: number;
}

export const DEFAULT_VIEWER_BUDGET: ViewerBudget = {
  maxBufferedBytes: 4 * 1024 * 1024,
  stallTimeoutMs: 15_000,
  writesPerMs: 32,
};

/**
 * The viewer budget from the settings. The fan-out's write rate is the machine's, not each
 * process's: it was tuned on one process, and N workers each writing at the full rate wrote N
 * times as often per viewer for the same audience — on 2 cores shared with the load generator
 * that doubled the send syscalls and cost more viewers than the second core gained (bench/RESULTS.md,
 * 2026-12-02 session 19). So each of N workers gets 1/N of it.
 */
export function viewerBudget(
  config: { viewerMaxBufferedBytes: number; viewerStallTimeoutMs: number; fanoutWritesPerMs: number },
  processes: number,
): ViewerBudget {
  return {
    maxBufferedBytes: config.viewerMaxBufferedBytes,
    stallTimeoutMs: config.viewerStallTimeoutMs,
    writesPerMs: Math.max(1, config.fanoutWritesPerMs / Math.max(1, processes)),
  };
}
