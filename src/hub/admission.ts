/**
 * Whether a publish or a play may begin: the one step every protocol takes before it asks the hub,
 * so that access rules, HTTP callbacks, limits and (with workers) the cluster-wide claim on a name
 * are decided the same way for RTMP, HTTP-FLV and WebSocket-FLV. A step may answer at once or
 * later (a callback, another process), and a publish may come out under another name (an
 * `on_publish` redirect). A refusal is a coded error saying why; the protocol tells its client in
 * its own terms (RTMP status, HTTP status, WebSocket close) and closes.
 *
 * With no step configured the answer is immediate (no promise, no extra turn of the event loop):
 * the origin out of the box pays nothing for it.
 */
import { EstuaryError } from '../errors.js';
import type { StreamName } from './stream-name.js';

export type AdmissionAction = 'publish' | 'play';

export interface AdmissionRequest {
  readonly action: AdmissionAction;
  readonly name: StreamName;
  /** The URL's query string (`?…` or empty): credentials travel here. */
  readonly query: string;
  /** The client's IP address. */
  readonly address: string;
  /** 'rtmp', 'http-flv', 'ws-flv'. */
  readonly protocol: string;
  /** The connection's id in the logs. */
  readonly clientId: string;
  /** The client's connection, for what has to happen when it ends (an `on_stop` callback). */
  readonly connection?: ConnectionEnd;
}

/** What a step may watch of the connection (a net.Socket is one). */
export interface ConnectionEnd {
  once(event: 'close', listener: () => void): unknown;
}

/**
 * One check. Returns nothing (allowed), a name (allowed, under that name), or a promise of either;
 * throws or rejects with a coded error to refuse.
 */
export type AdmissionStep = (
  req: AdmissionRequest,
) => StreamName | undefined | Promise<StreamName | undefined>;

export class Admission {
  private readonly steps: AdmissionStep[] = [];
  /**
   * Refusals so far, by `action` and error code (`publish ERR_AUTH`): /metrics reads it. Counted
   * here, once per refused request, so every step (auth, callbacks, limits) is counted alike.
   */
  readonly refusals = new Map<string, number>();

  /** Adds a check, run after those added before. */
  use(step: AdmissionStep): this {
    this.steps.push(step);
    return this;
  }

  get empty(): boolean {
    return this.steps.length === 0;
  }

  /**
   * The name to go on with, now when every step answered at once, else a promise; throws or
   * rejects with the first refusal.
   */
  admit(req: AdmissionRequest): StreamName | Promise<StreamName> {
    let current = req;
    try {
      for (let i = 0; i < this.steps.length; i++) {
        const out = this.steps[i]!(current);
        if (out instanceof Promise) {
          return this.finish(out, current, i + 1).catch((err: unknown) => {
            this.count(req, err);
            throw err;
          });
        }
        if (out) current = { ...current, name: out };
      }
    } catch (err) {
      this.count(req, err);
      throw err;
    }
    return current.name;
  }

  private count(req: AdmissionRequest, err: unknown): void {
    const key = `${req.action} ${err instanceof EstuaryError ? err.code : 'ERR_INTERNAL'}`;
    this.refusals.set(key, (this.refusals.get(key) ?? 0) + 1);
  }

  private async finish(
    pending: Promise<StreamName | undefined>,
    req: AdmissionRequest,
    next: number,
  ): Promise<StreamName> {
    let current = req;
    const first = await pending;
    if (first) current = { ...current, name: first };
    for (let i = next; i < this.steps.length; i++) {
      const out = await this.steps[i]!(current);
      if (out) current = { ...current, name: out };
    }
    return current.name;
  }
}

/**
 * Asks `admission` (none: everything is admitted as asked) and calls `then` with the name to go on
 * with — at once when every step answered at once — or `refused` with the error.
 */
export function admit(
  admission: Admission | undefined,
  req: AdmissionRequest,
  then: (name: StreamName) => void,
  refused: (err: unknown) => void,
): void {
  if (!admission || admission.empty) return then(req.name);
  let result: StreamName | Promise<StreamName>;
  try {
    result = admission.admit(req);
  } catch (err) {
    refused(err);
    return;
  }
  if (result instanceof Promise) result.then(then, refused);
  else then(result);
}

/** The same for code that is async anyway (a play that may wait for an edge's upstream). */
export async function admitted(admission: Admission | undefined, req: AdmissionRequest): Promise<StreamName> {
  if (!admission || admission.empty) return req.name;
  return admission.admit(req);
}
