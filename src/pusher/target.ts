/**
 * Where a push goes: one connection that takes FLV tags. `http-flv-target.ts` and
 * `rtmp-target.ts` implement it; the push loop knows only this.
 */
import { errorMessage } from '../errors.js';
import { PushError } from './push-error.js';

export interface PushTarget {
  /** For messages: "HTTP-FLV http://…" or "RTMP rtmp://…". */
  readonly description: string;
  /**
   * Sends one FLV tag (type 8/9/18, 32-bit ms timestamp, tag body). Resolves when more may be
   * written: it waits while the socket is over its buffer (backpressure). Rejects with a
   * PushError once the connection is gone.
   */
  send(type: number, timestamp: number, body: Buffer): Promise<void>;
  /** Ends the publish cleanly; resolves once the server has it all. */
  finish(): Promise<void>;
  /** Drops the connection now (no error is reported for it). */
  destroy(): void;
  /** Resolves (never rejects) with why, when the connection is lost while in use. */
  readonly lost: Promise<PushError>;
}

export interface TargetOptions {
  /** How long connecting may take before the server counts as unreachable (default 10 s). */
  connectTimeoutMs?: number;
}

export type OpenTarget = (url: string, opts?: TargetOptions) => Promise<PushTarget>;

/** A `lost` promise and the function that settles it once. */
export function lossSignal(): { lost: Promise<PushError>; report: (err: PushError) => void } {
  let report: (err: PushError) => void = () => {};
  const lost = new Promise<PushError>((resolve) => {
    let done = false;
    report = (err) => {
      if (done) return;
      done = true;
      resolve(err);
    };
  });
  return { lost, report };
}

/** Node's network error codes that mean nothing answered at that address. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EADDRNOTAVAIL',
]);

/** A failure to connect: unreachable when the network says so, else the connection was lost. */
export function connectFailure(where: string, err: unknown): PushError {
  const code = (err as NodeJS.ErrnoException).code;
  const msg = errorMessage(err);
  const unreachable =
    (code !== undefined && UNREACHABLE_CODES.has(code)) ||
    [...UNREACHABLE_CODES].some((c) => msg.includes(c)) ||
    msg.startsWith('no answer from');
  return new PushError(unreachable ? 'unreachable' : 'connection-lost', `cannot reach ${where}: ${msg}`, {
    cause: err,
  });
}
