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
}

export const DEFAULT_VIEWER_BUDGET: ViewerBudget = {
  maxBufferedBytes: 4 * 1024 * 1024,
  stallTimeoutMs: 15_000,
};
