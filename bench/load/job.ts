/** What the harness asks of one load-generator worker process, and what it answers (over IPC). */

export type ViewProtocol = 'http-flv' | 'ws-flv' | 'rtmp';

export interface ViewJob {
  role: 'view';
  protocol: ViewProtocol;
  /** http://host:port/app/stream.flv, ws://…, or rtmp://host:port/app/stream. */
  url: string;
  /** Several streams: viewer i watches urls[i % urls.length] (then `url` is ignored). */
  urls?: string[];
  /** Global indices of this worker's viewers (viewer i starts at startAt + i / rate). */
  first: number;
  step: number;
  count: number;
  /** Total viewers across all workers, and the global ramp rate (viewers/s). */
  total: number;
  rate: number;
  startAt: number;
  holdMs: number;
  /** A viewer with no keyframe this long after it connected fails ("no keyframe in 5 s"). */
  keyframeTimeoutMs: number;
  /** A viewer that receives nothing this long fails as stalled. */
  stallMs: number;
  /** Read the SEI clock of each video frame and record the delay. */
  latency: boolean;
  /**
   * A pause in video longer than this is an outage (edge-reconnect): record when video resumed
   * and how long it paused. Undefined: not watched.
   */
  resumeGapMs?: number;
}

export interface PublishJob {
  role: 'publish';
  /** One rtmp:// URL per publisher. */
  urls: string[];
  /** FLV file whose tags are re-sent in a loop, paced by their timestamps. */
  file: string;
  /** Stamp every video frame with the send time (sei-clock.ts). */
  stampClock: boolean;
  startAt: number;
  durationMs: number;
}

export type WorkerJob = ViewJob | PublishJob;

export interface ViewReport {
  role: 'view';
  attempted: number;
  succeeded: number;
  failures: Record<string, number>;
  /** Sparse millisecond histograms (histogram.ts). */
  ttfb: [number, number][];
  ttfk: [number, number][];
  latency: [number, number][];
  bytes: number;
  /** Bytes received per wall-clock second (epoch seconds → bytes). */
  perSecond: Record<string, number>;
  /** Video resumes after a pause over resumeGapMs: epoch time in 10 ms units → viewers. */
  resumes: Record<string, number>;
  /** Those pauses' lengths (sparse ms histogram). */
  gaps: [number, number][];
  /** Wall clock when the last viewer had been opened and when the first one's hold ended. */
  allConnectedAt: number;
  firstClosedAt: number;
  cpuSeconds: number;
}

export interface PublishReport {
  role: 'publish';
  publishers: number;
  failures: Record<string, number>;
  /** How late tags went out against their schedule (ms): over ~1 s means the server did not keep up. */
  lag: [number, number][];
  bytes: number;
  cpuSeconds: number;
}

export type WorkerReport = ViewReport | PublishReport;

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'progress'; connected: number; done: number }
  | { type: 'done'; report: WorkerReport }
  | { type: 'error'; message: string };
