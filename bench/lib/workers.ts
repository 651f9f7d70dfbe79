import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type {
  OutageMessage,
  PublishReport,
  ViewJob,
  ViewReport,
  WorkerJob,
  WorkerMessage,
  WorkerReport,
} from '../load/job.js';
import { Histogram } from './histogram.js';
import type { ProcessGroup } from './processes.js';

const WORKER = fileURLToPath(new URL('../load/worker.ts', import.meta.url));
/** Sockets per worker: under the 20,000-file limit with room for the process's own files. */
export const MAX_SOCKETS_PER_WORKER = 9_000;

/** Starts a worker process and resolves once it is ready for its job. */
async function startWorker(group: ProcessGroup): Promise<ChildProcess> {
  const child = group.spawn(process.execPath, ['--import', 'tsx', WORKER], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    const onMsg = (m: WorkerMessage) => {
      if (m.type === 'ready') {
        child.off('message', onMsg);
        resolve();
      }
    };
    child.on('message', onMsg);
    child.once('exit', (code) => reject(new Error(`load worker exited (${code}) before it was ready`)));
  });
  return child;
}

function runJob(
  child: ChildProcess,
  job: WorkerJob,
  onPublished?: (at: number, failed: number) => void,
): Promise<WorkerReport> {
  return new Promise((resolve, reject) => {
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'published') onPublished?.(m.at, m.failed);
      else if (m.type === 'done') resolve(m.report);
      else if (m.type === 'error') reject(new Error(`load worker failed: ${m.message}`));
    });
    child.once('exit', (code) => reject(new Error(`load worker exited (${code}) without a report`)));
    child.send(job);
  });
}

/** Starts `n` workers, each ready (tsx compiled, modules loaded) before any job begins. */
export function startWorkers(group: ProcessGroup, n: number): Promise<ChildProcess[]> {
  return Promise.all(Array.from({ length: n }, () => startWorker(group)));
}

export interface ViewPlan extends Omit<ViewJob, 'role' | 'first' | 'step' | 'count' | 'startAt'> {
  /** Delay before the first viewer opens, ms. */
  delayMs?: number;
}

/** Workers needed for `viewers` sockets. */
export function workersFor(viewers: number, minimum = 1): number {
  return Math.max(minimum, Math.ceil(viewers / MAX_SOCKETS_PER_WORKER));
}

/** Spreads the viewers over the workers (round robin, so each ramps at rate / workers). */
export async function runViewers(workers: ChildProcess[], plan: ViewPlan): Promise<ViewReport[]> {
  const startAt = Date.now() + (plan.delayMs ?? 500);
  const w = workers.length;
  const jobs = workers.map((child, i) =>
    runJob(child, {
      ...plan,
      role: 'view',
      first: i,
      step: w,
      count: Math.floor(plan.total / w) + (i < plan.total % w ? 1 : 0),
      startAt,
    }),
  );
  return (await Promise.all(jobs)) as ViewReport[];
}

/** `onPublished`: called when every publisher's RTMP publish was accepted (or failed). */
export async function runPublishers(
  child: ChildProcess,
  job: Omit<Extract<WorkerJob, { role: 'publish' }>, 'role'>,
  onPublished?: (at: number, failed: number) => void,
): Promise<PublishReport> {
  return (await runJob(child, { ...job, role: 'publish' }, onPublished)) as PublishReport;
}

/** Tells view workers the origin was killed at `atMs` (their watchOutage viewers look for new frames). */
export function announceOutage(workers: ChildProcess[], atMs: number): void {
  for (const w of workers) if (w.connected) w.send({ type: 'outage', atMs } satisfies OutageMessage);
}

export interface MergedViews {
  viewers: number;
  succeeded: number;
  failed: number;
  failures: Record<string, number>;
  ttfbMs: ReturnType<Histogram['summary']>;
  firstKeyframeMs: ReturnType<Histogram['summary']>;
  latencyMs: ReturnType<Histogram['summary']>;
  bytes: number;
  /** Mean delivered rate while every viewer was connected (Mbit/s), and that window's length. */
  plateauMbps: number;
  plateauSeconds: number;
  /** The plateau window, ms since the epoch. */
  plateauStart: number;
  plateauEnd: number;
  loadCpuSeconds: number;
  /** With watchOutage: each held viewer's first new video frame (epoch ms → viewers), and those without one. */
  resumes: Map<number, number>;
  neverResumed: number;
}

export function mergeViews(reports: ViewReport[]): MergedViews {
  const ttfb = new Histogram();
  const ttfk = new Histogram();
  const lat = new Histogram();
  let neverResumed = 0;
  const resumes = new Map<number, number>();
  const failures: Record<string, number> = {};
  const perSecond = new Map<number, number>();
  let attempted = 0;
  let succeeded = 0;
  let bytes = 0;
  let cpu = 0;
  let allConnected = 0;
  let firstClosed = Number.POSITIVE_INFINITY;
  for (const r of reports) {
    attempted += r.attempted;
    succeeded += r.succeeded;
    bytes += r.bytes;
    cpu += r.cpuSeconds;
    ttfb.merge(Histogram.fromSparse(r.ttfb));
    ttfk.merge(Histogram.fromSparse(r.ttfk));
    lat.merge(Histogram.fromSparse(r.latency));
    neverResumed += r.neverResumed;
    for (const [k, v] of Object.entries(r.resumes)) {
      resumes.set(Number(k), (resumes.get(Number(k)) ?? 0) + v);
    }
    for (const [k, v] of Object.entries(r.failures)) failures[k] = (failures[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.perSecond))
      perSecond.set(Number(k), (perSecond.get(Number(k)) ?? 0) + v);
    allConnected = Math.max(allConnected, r.allConnectedAt);
    if (r.firstClosedAt > 0) firstClosed = Math.min(firstClosed, r.firstClosedAt);
  }
  // Whole seconds strictly inside [all connected, first closed): the plateau of the run.
  const from = Math.ceil(allConnected / 1000) + 1;
  const to = Math.floor(firstClosed / 1000) - 1;
  let plateauBytes = 0;
  let secs = 0;
  for (let s = from; s < to; s++) {
    plateauBytes += perSecond.get(s) ?? 0;
    secs++;
  }
  return {
    viewers: attempted,
    succeeded,
    failed: attempted - succeeded,
    failures,
    ttfbMs: ttfb.summary(),
    firstKeyframeMs: ttfk.summary(),
    latencyMs: lat.summary(),
    bytes,
    plateauMbps: secs > 0 ? Math.round((plateauBytes * 8) / secs / 1e4) / 100 : Number.NaN,
    plateauSeconds: secs,
    plateauStart: from * 1000,
    plateauEnd: to * 1000,
    loadCpuSeconds: Math.round(cpu * 10) / 10,
    resumes,
    neverResumed,
  };
}
