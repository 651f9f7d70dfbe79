/**
 * The primary of `--workers N`: forks the workers (after `beforeFork`, crash recovery, so that it
 * runs once before any worker accepts), answers their questions over IPC (the stream directory,
 * the API's sum over workers), replaces a worker that dies, and on SIGINT/SIGTERM asks each to
 * shut down gracefully and exits once all have.
 *
 * How the workers share the ports is accept-mode.ts's (`--worker-accept`): by default each worker
 * accepts itself — on its own SO_REUSEPORT socket where Node has it, else on the one shared
 * socket — because cluster's round-robin handoff (the primary accepts and passes each connection
 * over IPC, one in flight per worker) was measured to be the bottleneck of a ramp of viewers
 * (bench/RESULTS.md, 2026-12-02 session 19).
 */
import type { SendHandle } from 'node:child_process';
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { asError, describeError } from '../errors.js';
import { onSignals } from '../util/process-signals.js';
import { acceptMode, applyAcceptMode, type WorkerAccept } from './accept-mode.js';
import { StreamDirectory } from './directory.js';
import { isWorkerMessage, type PrimaryMessage, type WorkerMessage } from './messages.js';
import { PausedPorts } from './paused-ports.js';
import type { NativeHandle } from './socket-handle.js';

export interface PrimaryOptions {
  /** The command, for messages: 'serve', 'flv-gateway', 'file-gateway'. */
  readonly name: string;
  readonly workers: number;
  /** How the workers share the ports (accept-mode.ts); default `auto`. */
  readonly accept?: WorkerAccept;
  readonly log: Logger;
  /** Runs once before the first fork (the origin's crash recovery of recordings). */
  readonly beforeFork?: () => Promise<void>;
  /**
   * A worker died holding the publishes of `paths`: complete what it left (its recordings).
   * No worker may publish those names until `moved` resolves.
   */
  readonly afterDeath?: (paths: readonly string[]) => { moved: Promise<void>; done: Promise<void> };
  /** How long the workers have to shut down gracefully before they are killed, ms. */
  readonly stopTimeoutMs?: number;
}

/** How long the primary waits for every worker's part of an API answer, ms. */
const GATHER_TIMEOUT_MS = 2000;
/** A worker that dies this soon after it was forked, this many times in a row, is not restarted. */
const CRASH_LOOP_MS = 5000;
const CRASH_LOOP_LIMIT = 5;

export async function runPrimary(opts: PrimaryOptions): Promise<number> {
  const { log } = opts;
  let stopping = false;
  let signalled: () => void = () => {};
  const signal = new Promise<void>((resolve) => {
    signalled = resolve;
  });
  const onSignal = () => {
    stopping = true;
    signalled();
  };
  // Before recovery and forking, as in the single process (command-settings.ts serveUntilSignal).
  // SIGHUP (a reload: systemd's ExecReload) goes to every worker, which re-reads its settings;
  // its default action would end the primary, and with it the server.
  const onHup = () => {
    for (const w of Object.values(cluster.workers ?? {})) if (w && !w.isDead()) w.process.kill('SIGHUP');
  };
  const off = onSignals({ SIGINT: onSignal, SIGTERM: onSignal, SIGHUP: onHup });
  try {
    const mode = acceptMode(opts.accept ?? 'auto');
    applyAcceptMode(mode);
    log.debug({ accept: mode }, 'how the workers share the ports');
    await opts.beforeFork?.();
  } catch (err) {
    off();
    console.error(`estuary ${opts.name}: ${describeError(err)}`);
    return 1;
  }

  const directory = new StreamDirectory();
  const ready = new Set<number>();
  const paused = new PausedPorts();
  const gathers = new Map<number, { want: Set<number>; parts: unknown[]; done: () => void }>();
  /** Admin ends forwarded to the holding worker: their asker and request id. */
  const ends = new Map<number, { asker: Worker; id: number; timer: NodeJS.Timeout }>();
  let nextGather = 1;
  let everReady = false;
  let quickDeaths = 0;
  let failed: (code: number) => void = () => {};
  const startFailed = new Promise<number>((resolve) => {
    failed = resolve;
  });

  const send = (w: Worker, m: PrimaryMessage) => {
    // A worker on its way out: its channel may close under the send (the 'error' below).
    if (w.isConnected()) w.send(m);
  };
  /** The next worker a passed-on connection goes to, per port (in turn among those with room). */
  const nextTaker = new Map<string, number>();
  /**
   * A connection that reached a worker holding its maxConnections on `port` (accept-valve.ts):
   * to another accepting worker, in turn, one that did not pause there first; back to its own
   * worker when there is no other (which then refuses it with the 503 of a full server). The
   * taker never passes it on again, so a connection crosses at most once. The primary's copy of
   * the handle is closed once sent: the connection lives in the taker.
   */
  const passOn = (from: Worker, port: string, handle: NativeHandle) => {
    const live = [...ready].filter((id) => id !== from.id && cluster.workers?.[id]?.isConnected());
    const open = live.filter((id) => !paused.has(port, id));
    const pool = open.length > 0 ? open : live;
    const turn = nextTaker.get(port) ?? 0;
    nextTaker.set(port, turn + 1);
    const target = pool.length > 0 ? cluster.workers?.[pool[turn % pool.length] as number] : from;
    const give = (w: Worker, retry: boolean) => {
      const sent = (err: Error | null) => {
        if (err && retry && from.isConnected()) give(from, false);
        else handle.close();
      };
      try {
        w.send({ t: 'take', port } satisfies PrimaryMessage, handle as unknown as SendHandle, sent);
      } catch (err) {
        sent(asError(err));
      }
    };
    give(target ?? from, target !== undefined && target !== from);
  };
  const others = (id: number, m: PrimaryMessage) => {
    for (const w of Object.values(cluster.workers ?? {})) if (w && w.id !== id) send(w, m);
  };

  const onMessage = (w: Worker, m: WorkerMessage, handle?: NativeHandle) => {
    switch (m.t) {
      case 'handoff':
        if (handle) passOn(w, m.port, handle);
        break;
      case 'ready':
        ready.add(w.id);
        everReady = true;
        if (m.privateUrl) directory.setUrl(w.id, m.privateUrl);
        log.debug({ worker: w.id, pid: w.process.pid, privateUrl: m.privateUrl }, 'worker ready');
        break;
      case 'claim': {
        const r = directory.claim(m.path, w.id);
        if (r.ok) {
          send(w, { t: 'reply', id: m.id, ok: true });
          if (r.fresh) others(w.id, { t: 'published', path: m.path });
        } else {
          send(w, {
            t: 'reply',
            id: m.id,
            ok: false,
            reason:
              'held' in r
                ? `stream ${m.path}: the recording a stopped worker left is being completed; try again`
                : `stream ${m.path} is already being published (on worker ${r.holder})`,
          });
        }
        break;
      }
      case 'pause': {
        const listening = [...ready].filter((id) => cluster.workers?.[id]?.isConnected());
        const r = stopping ? { ok: false, reopen: [] } : paused.ask(m.port, w.id, listening);
        send(w, { t: 'reply', id: m.id, ok: r.ok });
        for (const id of r.reopen) {
          const target = cluster.workers?.[id];
          if (target) send(target, { t: 'reopen', port: m.port });
        }
        break;
      }
      case 'resume':
        paused.resume(m.port, w.id);
        break;
      case 'release':
        if (directory.release(m.path, w.id)) others(w.id, { t: 'unpublished', path: m.path });
        break;
      case 'locate': {
        const holder = directory.holder(m.path);
        send(w, {
          t: 'reply',
          id: m.id,
          self: holder === w.id,
          url: holder === undefined || holder === w.id ? undefined : directory.url(holder),
        });
        break;
      }
      case 'gather': {
        const gid = nextGather++;
        const want = new Set([...ready].filter((id) => cluster.workers?.[id]?.isConnected()));
        const parts: unknown[] = [];
        let timer: NodeJS.Timeout | undefined;
        const done = () => {
          clearTimeout(timer);
          gathers.delete(gid);
          send(w, { t: 'reply', id: m.id, parts });
        };
        timer = setTimeout(done, GATHER_TIMEOUT_MS);
        gathers.set(gid, { want, parts, done });
        if (want.size === 0) done();
        for (const id of want) {
          const target = cluster.workers?.[id];
          if (target) send(target, { t: 'describe', id: gid, query: m.query, what: m.what });
        }
        break;
      }
      case 'end': {
        const holder = directory.holder(m.path);
        const target = holder === undefined ? undefined : cluster.workers?.[holder];
        if (!target) {
          send(w, { t: 'reply', id: m.id, found: false, ended: false });
          break;
        }
        const fid = nextGather++;
        const timer = setTimeout(() => {
          ends.delete(fid);
          send(w, { t: 'reply', id: m.id, found: true, ended: false });
        }, GATHER_TIMEOUT_MS + 1000);
        ends.set(fid, { asker: w, id: m.id, timer });
        send(target, { t: 'end', id: fid, path: m.path });
        break;
      }
      case 'ended': {
        const e = ends.get(m.id);
        if (!e) break;
        ends.delete(m.id);
        clearTimeout(e.timer);
        send(e.asker, { t: 'reply', id: e.id, found: true, ended: m.ended });
        break;
      }
      case 'described': {
        const g = gathers.get(m.id);
        if (!g?.want.delete(w.id)) break;
        g.parts.push(m.body);
        if (g.want.size === 0) g.done();
        break;
      }
    }
  };

  const fork = () => {
    const w = cluster.fork();
    const forkedAt = Date.now();
    // EPIPE on a send to a worker that is exiting: its 'exit' follows and says the rest.
    w.on('error', (err) => log.debug({ worker: w.id, err: describeError(err) }, 'worker channel error'));
    w.on('message', (m: unknown, handle: unknown) => {
      if (isWorkerMessage(m)) onMessage(w, m, handle as NativeHandle | undefined);
    });
    w.on('exit', (code, sig) => {
      ready.delete(w.id);
      // Workers that stopped accepting because it accepted: the port must stay open.
      for (const r of paused.drop(w.id, ready)) {
        const target = cluster.workers?.[r.worker];
        if (target) send(target, { t: 'reopen', port: r.port });
      }
      for (const [, g] of gathers) if (g.want.delete(w.id) && g.want.size === 0) g.done();
      const freed = directory.dropWorker(w.id);
      if (freed.length > 0 && opts.afterDeath) {
        directory.hold(freed);
        const r = opts.afterDeath(freed);
        const unhold = () => directory.unhold(freed);
        r.moved.then(unhold, (err: unknown) => {
          unhold();
          log.error(
            { err: describeError(err), streams: freed },
            'recovering a stopped worker’s recordings failed',
          );
        });
        r.done.catch(() => {});
      }
      if (stopping) return;
      if (!everReady) {
        // A worker that could not start (a port in use, a bad data directory): as one process would.
        log.error({ worker: w.id, code, signal: sig }, 'a worker failed to start');
        failed(1);
        return;
      }
      quickDeaths = Date.now() - forkedAt < CRASH_LOOP_MS ? quickDeaths + 1 : 0;
      if (quickDeaths >= CRASH_LOOP_LIMIT) {
        log.error({ worker: w.id, code, signal: sig }, 'workers keep dying at start; giving up');
        failed(1);
        return;
      }
      log.warn(
        { worker: w.id, pid: w.process.pid, code, signal: sig, streams: freed },
        'a worker died; starting another (its publishers reconnect, viewers on other workers stay)',
      );
      // Their viewers on other workers keep their connections: the pulls reconnect to wherever
      // the publisher comes back, so no `unpublished` is said here.
      fork();
    });
  };

  // A signal during recovery: nothing was started, nothing to stop.
  if (stopping) {
    off();
    return 0;
  }
  log.info({ workers: opts.workers }, `starting ${opts.workers} workers`);
  for (let i = 0; i < opts.workers; i++) fork();
  const code = await Promise.race([signal.then(() => 0), startFailed]);
  stopping = true;
  off();
  const ok = await stopAll(opts.stopTimeoutMs ?? 30_000, log);
  return code === 0 && !ok ? 1 : code;
}

/** Asks every worker to stop and resolves once all exited (false when some had to be killed). */
async function stopAll(timeoutMs: number, log: Logger): Promise<boolean> {
  const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  const exits = live.map(
    (w) =>
      new Promise<void>((resolve) => {
        if (w.isDead()) return resolve();
        w.once('exit', () => resolve());
        if (w.isConnected()) w.send({ t: 'stop' } satisfies PrimaryMessage, undefined, () => {});
        else w.process.kill('SIGTERM');
      }),
  );
  let timer: NodeJS.Timeout | undefined;
  const all = Promise.all(exits).then(() => true);
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const ok = await Promise.race([all, timeout]);
  clearTimeout(timer);
  if (!ok) {
    log.error({ timeoutMs }, 'workers did not stop in time; killing them');
    for (const w of live) if (!w.isDead()) w.process.kill('SIGKILL');
  }
  log.info('stopped');
  return ok;
}
