/**
 * What the primary and its workers say to each other over the cluster IPC channel (JSON). A
 * request carries an `id` and is answered by a `reply` with the same id; the rest are one-way.
 */

/** What a gather collects: /api/streams (the default), /api/server, or /metrics (as JSON). */
export type GatherKind = 'streams' | 'server' | 'metrics';

/** Worker → primary. */
export type WorkerMessage =
  /** Started and listening; `privateUrl`: its loopback HTTP-FLV port for other workers' pulls. */
  | { readonly t: 'ready'; readonly privateUrl?: string }
  /** May this worker publish `path`? (one publisher per name across the workers) */
  | { readonly t: 'claim'; readonly id: number; readonly path: string }
  /** This worker's publish of `path` ended (or never began). */
  | { readonly t: 'release'; readonly path: string }
  /** Which worker holds `path`: its private URL, if any. */
  | { readonly t: 'locate'; readonly id: number; readonly path: string }
  /** Every worker's answer to `describe` (the API's sum over workers). */
  | { readonly t: 'gather'; readonly id: number; readonly query: string; readonly what?: GatherKind }
  /** An answer to the primary's `describe`. */
  | { readonly t: 'described'; readonly id: number; readonly body: unknown }
  /** End the publish of `path` wherever it is (the admin API's DELETE). */
  | { readonly t: 'end'; readonly id: number; readonly path: string }
  /** An answer to the primary's `end`: whether the publish ended. */
  | { readonly t: 'ended'; readonly id: number; readonly ended: boolean }
  /** May this worker stop accepting on `port`? (it holds maxConnections there: accept-valve.ts) */
  | { readonly t: 'pause'; readonly id: number; readonly port: string }
  /** This worker accepts on `port` again. */
  | { readonly t: 'resume'; readonly port: string }
  /**
   * Sent with an accepted connection's handle: this worker holds maxConnections on `port`, give
   * the connection to another worker (accept-valve.ts).
   */
  | { readonly t: 'handoff'; readonly port: string };

/** Primary → worker. */
export type PrimaryMessage =
  | ({ readonly t: 'reply'; readonly id: number } & Reply)
  /** Another worker began, or ended, publishing `path`. */
  | { readonly t: 'published'; readonly path: string }
  | { readonly t: 'unpublished'; readonly path: string }
  /** Describe yourself for the API (answered with `described`). */
  | { readonly t: 'describe'; readonly id: number; readonly query: string; readonly what?: GatherKind }
  /** End your publish of `path` (answered with `ended`). */
  | { readonly t: 'end'; readonly id: number; readonly path: string }
  /** Accept on `port` again now (the other workers that accepted there are gone). */
  | { readonly t: 'reopen'; readonly port: string }
  /**
   * Sent with a connection's handle that another worker accepted on `port` when it was full:
   * take it, or refuse it as full (never pass it on).
   */
  | { readonly t: 'take'; readonly port: string }
  /** Shut down gracefully (recordings finalised), then exit. */
  | { readonly t: 'stop' };

export interface Reply {
  /** claim, pause: granted, or refused (claim: with `reason`). */
  readonly ok?: boolean;
  readonly reason?: string;
  /** locate: the holder's private URL; `self` when the asker holds it. */
  readonly url?: string;
  readonly self?: boolean;
  /** end: whether a worker held `path`, and whether its publish ended. */
  readonly found?: boolean;
  readonly ended?: boolean;
  /** gather: each worker's `described` body. */
  readonly parts?: readonly unknown[];
}

export function isWorkerMessage(m: unknown): m is WorkerMessage {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';
}

export function isPrimaryMessage(m: unknown): m is PrimaryMessage {
  return isWorkerMessage(m);
}
