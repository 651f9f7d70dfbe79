/**
 * A load-generator process of the file benchmarks: `node --import tsx bench/load/file-worker.ts`
 * with an IPC channel. It gets one FileJob, opens its share of the clients on the ramp (client i
 * at startAt + i / rate, source address 127.0.0.(2 + i mod 253)), runs them until endAt and
 * answers with one FileReport. A deadline ends it even if sockets hang.
 */
import { Histogram } from '../lib/histogram.js';
import { FileClient, type FileMode, type FileStats } from './file-client.js';

export interface FileJob {
  mode: FileMode;
  host: string;
  port: number;
  playlist: string;
  bigFile: string;
  bigSize: number;
  rangeBytes: number;
  /** Global indices of this worker's clients: first, first + step, …; count of them. */
  first: number;
  step: number;
  count: number;
  rate: number;
  startAt: number;
  endAt: number;
  timeoutMs: number;
  /** Each client waits this long after each answer, ms. */
  pauseMs: number;
  /** Requests sent from then on (epoch ms) also count in the plateau's TTFB. */
  plateauFrom: number;
}

export interface FileReport {
  requests: number;
  failures: Record<string, number>;
  ttfb: [number, number][];
  ttfbPlateau: [number, number][];
  bytes: number;
  idleCloses: number;
  perSecond: Record<string, [number, number]>;
  cpuSeconds: number;
}

export type FileWorkerMessage =
  | { type: 'ready' }
  | { type: 'done'; report: FileReport }
  | { type: 'error'; message: string };

const SOURCE_ADDRESSES = 253;
/** Longer than a client's stall timeout, shorter than the process deadline (30 s after the end). */
const ABANDON_AFTER_END_MS = 20_000;

function send(m: FileWorkerMessage): void {
  process.send?.(m);
}

async function run(job: FileJob): Promise<FileReport> {
  const stats: FileStats = {
    requests: 0,
    failures: {},
    ttfb: new Histogram(),
    ttfbPlateau: new Histogram(),
    bytes: 0,
    idleCloses: 0,
    perSecond: new Map(),
  };
  const cpu0 = process.cpuUsage();
  let started = 0;
  let finished = 0;
  const clients: FileClient[] = [];
  // Clients still waiting this long after the end are abandoned (each a failure that says where
  // it waited) so that the run reports; the process's own deadline (below) is the last resort.
  const abandon = setTimeout(
    () => {
      for (const c of clients) c.abandon();
      if (process.env.ESTUARY_BENCH_DEBUG)
        console.error(
          `[file-worker] abandon: started ${started}/${job.count}, finished ${finished}, clients ${clients.length}`,
        );
    },
    Math.max(0, job.endAt - Date.now()) + ABANDON_AFTER_END_MS,
  );
  await new Promise<void>((resolve) => {
    const onDone = () => {
      if (++finished === job.count) resolve();
    };
    if (job.count === 0) resolve();
    const ramp = setInterval(() => {
      const now = Date.now();
      while (started < job.count) {
        const g = job.first + started * job.step;
        if (job.startAt + (g * 1000) / job.rate > now) break;
        started++;
        const client = new FileClient(
          {
            host: job.host,
            port: job.port,
            mode: job.mode,
            localAddress: `127.0.0.${2 + (g % SOURCE_ADDRESSES)}`,
            playlist: job.playlist,
            bigFile: job.bigFile,
            bigSize: job.bigSize,
            rangeBytes: job.rangeBytes,
            endAt: job.endAt,
            timeoutMs: job.timeoutMs,
            pauseMs: job.pauseMs,
            plateauFrom: job.plateauFrom,
          },
          stats,
          onDone,
        );
        clients.push(client);
      }
      if (started === job.count) clearInterval(ramp);
    }, 10);
  });
  clearTimeout(abandon);
  const cpu = process.cpuUsage(cpu0);
  return {
    requests: stats.requests,
    failures: stats.failures,
    ttfb: stats.ttfb.toSparse(),
    ttfbPlateau: stats.ttfbPlateau.toSparse(),
    bytes: stats.bytes,
    idleCloses: stats.idleCloses,
    perSecond: Object.fromEntries([...stats.perSecond].map(([k, v]) => [String(k), v])),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

process.on('message', (job: FileJob) => {
  // However the sockets behave, the worker is gone a little after its job's end.
  setTimeout(() => process.exit(3), Math.max(0, job.endAt - Date.now()) + 30_000).unref();
  run(job).then(
    (report) => {
      send({ type: 'done', report });
      setTimeout(() => process.exit(0), 200);
    },
    (err: Error) => {
      send({ type: 'error', message: err.message });
      process.exit(1);
    },
  );
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
