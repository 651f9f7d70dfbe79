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
  /** How long every viewer stays after the last one opened (all of them connected at once). */
  holdMs: number;
  /** A viewer with no keyframe this long after it connected fails ("no keyframe in 5 s"). */
  keyframeTimeoutMs: number;
  /** A viewer that receives nothing this long fails as stalled. */
  stallMs: number;
  /** Read the SEI clock of each video frame and record the delay. */
  latency: boolean;
  /**
   * Watch for an outage (edge-reconnect): the harness announces the moment it kills the origin
   * (an `outage` message); each viewer then records when its first video frame stamped (SEI
   * clock, sei-clock.ts) at or after that moment arrives, i.e. its first frame from the new
   * publish. Needs a publisher that stamps every frame.
   */
  watchOutage?: boolean;
}

/** The harness's messages to a worker after its job: the origin was killed at `atMs` (epoch). */
export interface OutageMessage {
  type: 'outage';
  atMs: number;
}

export type HarnessMessage = WorkerJob | OutageMessage;

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
  /**
   * With watchOutage, over the viewers that held to the end: when each one's first new video
   * frame arrived (epoch ms → viewers), and how many held without one.
   */
  resumes: Record<string, number>;
  neverResumed: number;
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
  /** A publish job's publishers have all started (RTMP publish accepted, or `failed`) at `at` (epoch ms). */
  | { type: 'published'; at: number; failed: number }
  | { type: 'done'; report: WorkerReport }
  | { type: 'error'; message: string };
