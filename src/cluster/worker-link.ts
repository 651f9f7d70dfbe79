/**
 * A worker's side of the IPC channel to the primary: requests with answers (claim, locate,
 * gather), one-way notes (ready, release), and what the primary tells it (another worker's
 * publish began or ended, describe yourself, stop).
 */
import type { SendHandle } from 'node:child_process';
import cluster from 'node:cluster';
import { asError, describeError, EstuaryError } from '../errors.js';
import {
  type GatherKind,
  isPrimaryMessage,
  type PrimaryMessage,
  type Reply,
  type WorkerMessage,
} from './messages.js';
import type { NativeHandle } from './socket-handle.js';

/** A primary that does not answer this soon is treated as gone for that request, ms. */
const REQUEST_TIMEOUT_MS = 5000;

type Asked = Extract<WorkerMessage, { t: 'claim' | 'locate' | 'gather' | 'end' | 'pause' }>;
type Request = Asked extends infer M ? (M extends Asked ? Omit<M, 'id'> : never) : never;
type Note = Exclude<WorkerMessage, { t: 'claim' | 'locate' | 'gather' | 'end' | 'pause' | 'handoff' }>;

export interface PrimaryEvents {
  published?(path: string): void;
  unpublished?(path: string): void;
  describe?(query: string, what: GatherKind): unknown | Promise<unknown>;
  /** End this worker's publish of `path`; resolves with whether it ended. */
  end?(path: string): Promise<boolean>;
  stop?(): void;
}

export class PrimaryLink {
  /** This worker's id (cluster.worker.id): 1, 2, …; a replacement gets a new one. */
  readonly worker: number;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; timer: NodeJS.Timeout }>();
  private events: PrimaryEvents = {};
  /** Per port, what to do when the primary says accept again (accept-valve.ts). */
  private readonly reopeners = new Map<string, () => void>();
  /** Per port, what takes a connection another worker passed on (accept-valve.ts). */
  private readonly takers = new Map<string, (handle: NativeHandle) => void>();

  constructor() {
    if (!cluster.isWorker || !cluster.worker || !process.send) {
      throw new EstuaryError('ERR_INTERNAL', 'PrimaryLink outside a cluster worker');
    }
    this.worker = cluster.worker.id;
    process.on('message', (m: unknown, handle: unknown) => {
      if (!isPrimaryMessage(m)) return;
      if (m.t === 'take') this.taken(m.port, handle as NativeHandle | undefined);
      else this.onMessage(m);
    });
  }

  on(events: PrimaryEvents): void {
    this.events = { ...this.events, ...events };
  }

  /** `reopen` is called when the primary asks this worker to accept on `port` again. */
  onReopen(port: string, reopen: () => void): void {
    this.reopeners.set(port, reopen);
  }

  /** `take` is given the connections on `port` that another worker passed on. */
  onTake(port: string, take: (handle: NativeHandle) => void): void {
    this.takers.set(port, take);
  }

  /**
   * Sends an accepted connection on `port` to the primary, for a worker with room; `sent` is
   * called once it is on its way (null: this process may close its copy) or could not be sent.
   */
  handOff(port: string, handle: NativeHandle, sent: (err: Error | null) => void): void {
    const m: WorkerMessage = { t: 'handoff', port };
    try {
      if (!process.connected || !process.send) throw new Error('the primary is gone');
      process.send(m, handle as unknown as SendHandle, undefined, sent);
    } catch (err) {
      sent(asError(err));
    }
  }

  note(m: Note): void {
    if (process.connected) process.send?.(m);
  }

  /** Asks the primary; rejects with ERR_CONNECTION_CLOSED when it does not answer in time. */
  request(m: Request): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new EstuaryError('ERR_CONNECTION_CLOSED', `the primary did not answer ${m.t} in time`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, timer });
      if (!process.connected) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new EstuaryError('ERR_CONNECTION_CLOSED', 'the primary is gone'));
        return;
      }
      process.send?.({ ...m, id });
    });
  }

  private taken(port: string, handle: NativeHandle | undefined): void {
    if (!handle) return;
    const take = this.takers.get(port);
    if (take) take(handle);
    else handle.close();
  }

  private onMessage(m: Exclude<PrimaryMessage, { t: 'take' }>): void {
    switch (m.t) {
      case 'reply': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        clearTimeout(p.timer);
        p.resolve(m);
        return;
      }
      case 'published':
        this.events.published?.(m.path);
        return;
      case 'unpublished':
        this.events.unpublished?.(m.path);
        return;
      case 'describe':
        void Promise.resolve()
          .then(() => this.events.describe?.(m.query, m.what ?? 'streams'))
          .catch(() => undefined)
          .then((body) => this.note({ t: 'described', id: m.id, body: body ?? null }));
        return;
      case 'end':
        void Promise.resolve()
          .then(() => this.events.end?.(m.path) ?? false)
          .catch(() => false)
          .then((ended) => this.note({ t: 'ended', id: m.id, ended }));
        return;
      case 'reopen':
        this.reopeners.get(m.port)?.();
        return;
      case 'stop':
        this.events.stop?.();
        return;
    }
  }
}

/**
 * Runs a server in a worker: starts it, tells the primary it is ready, and stops it when the
 * primary says stop, when the primary is gone, or on SIGINT/SIGTERM (Ctrl-C reaches the whole
 * process group). Resolves with the exit code.
 */
export async function serveAsWorker(
  name: string,
  link: PrimaryLink,
  start: () => Promise<unknown>,
  stop: () => Promise<void>,
  privateUrl?: () => string | undefined,
): Promise<number> {
  let done: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    done = resolve;
  });
  link.on({ stop: done });
  process.on('SIGINT', done);
  process.on('SIGTERM', done);
  process.on('disconnect', done);
  try {
    await start();
  } catch (err) {
    console.error(`estuary ${name} (worker ${link.worker}): ${describeError(err)}`);
    return 1;
  }
  link.note({ t: 'ready', privateUrl: privateUrl?.() });
  await stopped;
  try {
    await stop();
    return 0;
  } catch (err) {
    console.error(`estuary ${name} (worker ${link.worker}): stopping failed: ${describeError(err)}`);
    return 1;
  }
}
