/**
 * The file gateway under load, side by side with Debian's nginx (`sendfile on`) serving the same
 * directory (issue 14):
 *  - files-live: N clients each fetching the live playlist and the newest segment in a loop;
 *  - files-download: M clients each downloading the big stream_full.mp4, again and again;
 *  - files-range: clients asking 256 KiB ranges at random offsets of it (seeking players).
 * Each prints requests/s and Gbit/s on the plateau (every client open), failures, TTFB p50/p99
 * and the server's RSS and CPU, and appends the run to bench/results/<scenario>.jsonl.
 */
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScenarioDefaults } from '../lib/args.js';
import { BIG_FILE, PLAYLIST, prepareFileMedia } from '../lib/file-media.js';
import { type FileServerKind, fileServerUnavailable, HOST, startFileServer } from '../lib/file-servers.js';
import { Histogram } from '../lib/histogram.js';
import { ProcSampler } from '../lib/proc-stats.js';
import type { ProcessGroup } from '../lib/processes.js';
import type { FileMode } from '../load/file-client.js';
import type { FileJob, FileReport, FileWorkerMessage } from '../load/file-worker.js';
import { type Scenario, type ScenarioContext, saveRun } from './scenario.js';

const WORKER = fileURLToPath(new URL('../load/file-worker.ts', import.meta.url));
const SOCKETS_PER_WORKER = 9_000;
const RANGE_BYTES = 256 * 1024;
const MiB = 1024 * 1024;

function defaults(viewers: number, rate: number): ScenarioDefaults {
  // kbps and protocol are the FLV scenarios' options; unused here.
  return {
    viewers: [viewers],
    seconds: 30,
    servers: ['estuary', 'nginx'],
    rate,
    kbps: 0,
    protocol: 'http-flv',
  };
}

async function startWorker(group: ProcessGroup): Promise<ChildProcess> {
  const child = group.spawn(process.execPath, ['--import', 'tsx', WORKER], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', (m: FileWorkerMessage) =>
      m.type === 'ready' ? resolve() : reject(new Error(m.type)),
    );
    child.once('exit', (code) => reject(new Error(`file worker exited (${code}) before it was ready`)));
  });
  return child;
}

function runJob(child: ChildProcess, job: FileJob): Promise<FileReport> {
  return new Promise((resolve, reject) => {
    child.on('message', (m: FileWorkerMessage) => {
      if (m.type === 'done') resolve(m.report);
      else if (m.type === 'error') reject(new Error(`file worker failed: ${m.message}`));
    });
    child.once('exit', (code) => reject(new Error(`file worker exited (${code}) without a report`)));
    child.send(job);
  });
}

interface Figures {
  version: string;
  clients: number;
  requestsPerSecond: number;
  gbitPerSecond: number;
  plateauSeconds: number;
  requests: number;
  failures: Record<string, number>;
  failed: number;
  /** Idle keep-alive connections the server closed between requests (reconnected; no failure). */
  idleCloses: number;
  ttfbMs: ReturnType<Histogram['summary']>;
  /** Requests sent on the plateau only (the ramp's first requests and accept queue left out). */
  ttfbPlateauMs: ReturnType<Histogram['summary']>;
  serverCpuSeconds: number;
  serverRssMiB: { base: number; plateau: number; peak: number };
  loadCpuSeconds: number;
}

async function runOne(
  ctx: ScenarioContext,
  kind: FileServerKind,
  mode: FileMode,
  clients: number,
  root: string,
  bigSize: number,
): Promise<Figures> {
  const { group, opts } = ctx;
  const server = await startFileServer(group, kind, root, {
    extraArgs: kind === 'estuary' ? opts.estuaryArgs : [],
    nodeArgs: opts.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', join(tmpdir(), 'estuary-bench-profiles')] : [],
  });
  const cap = opts.rssCapGiB * 1024 * MiB;
  const sampler = new ProcSampler(server.pid, 500, {
    capBytes: cap,
    action: () => server.child.kill('SIGKILL'),
  });
  const baseRss = sampler.now()?.rss ?? 0;
  const n = opts.workers ?? Math.max(clients > 1000 ? 2 : 1, Math.ceil(clients / SOCKETS_PER_WORKER));
  const workers = await Promise.all(Array.from({ length: n }, () => startWorker(group)));
  const rampMs = (clients / opts.rate) * 1000;
  const startAt = Date.now() + 500;
  const endAt = startAt + rampMs + opts.seconds * 1000;
  const reports = await Promise.all(
    workers.map((w, i) =>
      runJob(w, {
        mode,
        host: HOST,
        port: server.port,
        playlist: PLAYLIST,
        bigFile: BIG_FILE,
        bigSize,
        rangeBytes: RANGE_BYTES,
        first: i,
        step: n,
        count: Math.floor(clients / n) + (i < clients % n ? 1 : 0),
        rate: opts.rate,
        startAt,
        endAt,
        timeoutMs: 10_000,
        pauseMs: opts.pauseMs,
        plateauFrom: (Math.ceil((startAt + rampMs) / 1000) + 1) * 1000,
      }),
    ),
  );
  const trace = sampler.stop();
  await Promise.all(workers.map((w) => group.stop(w)));
  await group.stop(server.child);
  // The plateau: whole seconds after the ramp (every client open) and before the end.
  const from = Math.ceil((startAt + rampMs) / 1000) + 1;
  const to = Math.floor(endAt / 1000) - 1;
  let reqs = 0;
  let bytes = 0;
  const ttfb = new Histogram();
  const ttfbPlateau = new Histogram();
  const failures: Record<string, number> = {};
  for (const r of reports) {
    ttfb.merge(Histogram.fromSparse(r.ttfb));
    ttfbPlateau.merge(Histogram.fromSparse(r.ttfbPlateau));
    for (const [k, c] of Object.entries(r.failures)) failures[k] = (failures[k] ?? 0) + c;
    for (const [sec, [q, b]] of Object.entries(r.perSecond)) {
      const s = Number(sec);
      if (s >= from && s < to) {
        reqs += q;
        bytes += b;
      }
    }
  }
  const seconds = Math.max(1, to - from);
  const plateau = trace.samples.filter((s) => s.t >= from * 1000 && s.t < to * 1000);
  const mib = (b: number) => Math.round(b / MiB);
  return {
    version: server.version,
    clients,
    requestsPerSecond: Math.round(reqs / seconds),
    gbitPerSecond: Math.round(((bytes * 8) / 1e9 / seconds) * 100) / 100,
    plateauSeconds: seconds,
    requests: reports.reduce((a, r) => a + r.requests, 0),
    failures,
    failed: Object.values(failures).reduce((a, c) => a + c, 0),
    idleCloses: reports.reduce((a, r) => a + (r.idleCloses ?? 0), 0),
    ttfbMs: ttfb.summary(),
    ttfbPlateauMs: ttfbPlateau.summary(),
    serverCpuSeconds: Math.round(trace.cpuSeconds * 10) / 10,
    serverRssMiB: {
      base: mib(baseRss),
      plateau: mib(plateau.length ? plateau.reduce((a, s) => a + s.rss, 0) / plateau.length : 0),
      peak: mib(trace.peakRss),
    },
    loadCpuSeconds: Math.round(reports.reduce((a, r) => a + r.cpuSeconds, 0) * 10) / 10,
  };
}

function line(kind: string, version: string, f: Figures): string {
  const fails = Object.entries(f.failures)
    .map(([k, c]) => `${c}× ${k}`)
    .join(', ');
  return (
    `${kind} ${version}: ${f.clients} clients; ${f.requestsPerSecond} req/s, ${f.gbitPerSecond} Gbit/s over ${f.plateauSeconds} s; ` +
    `failures ${f.failed}${fails ? ` (${fails})` : ''}${f.idleCloses ? `; idle connections closed by the server ${f.idleCloses}` : ''}; TTFB p50/p99 ${f.ttfbMs.p50}/${f.ttfbMs.p99} ms (plateau ${f.ttfbPlateauMs.p50}/${f.ttfbPlateauMs.p99}); ` +
    `server CPU ${f.serverCpuSeconds} s, RSS base/plateau/peak ${f.serverRssMiB.base}/${f.serverRssMiB.plateau}/${f.serverRssMiB.peak} MiB; load CPU ${f.loadCpuSeconds} s`
  );
}

function fileScenario(name: string, mode: FileMode, summary: string, d: ScenarioDefaults): Scenario {
  return {
    name,
    summary,
    defaults: d,
    async run(ctx) {
      const kinds = ctx.opts.servers.filter((s): s is FileServerKind => {
        if (s !== 'estuary' && s !== 'nginx') {
          console.log(`${s}: skipped: not a file server`);
          return false;
        }
        const why = fileServerUnavailable(s);
        if (why) console.log(`${s}: ${why}`);
        return !why;
      });
      const media = prepareFileMedia({ bigMiB: 60, segmentKiB: 512, segmentMs: 2000 });
      try {
        for (const clients of ctx.opts.viewers) {
          const rows: Record<string, Figures> = {};
          for (const kind of kinds) {
            const f = await runOne(ctx, kind, mode, clients, media.root, media.bigSize);
            rows[kind] = f;
            console.log(`${name}: ${line(kind, f.version, f)}`);
          }
          if (rows.estuary && rows.nginx) {
            const r = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : 0);
            console.log(
              `${name}: estuary/nginx requests/s ${r(rows.estuary.requestsPerSecond, rows.nginx.requestsPerSecond)}×, Gbit/s ${r(rows.estuary.gbitPerSecond, rows.nginx.gbitPerSecond)}×`,
            );
          }
          saveRun(name, ctx, {
            mode,
            clients,
            servers: rows,
            rangeBytes: mode === 'range' ? RANGE_BYTES : undefined,
            pauseMs: ctx.opts.pauseMs,
          });
        }
      } finally {
        media.stop();
      }
    },
  };
}

export const filesLive = fileScenario(
  'files-live',
  'live',
  '19,500 clients: live playlist + newest segment in a loop (estuary file-gateway, nginx)',
  defaults(19_500, 2000),
);
export const filesDownload = fileScenario(
  'files-download',
  'download',
  '500 clients downloading a 60 MB stream_full.mp4 (estuary file-gateway, nginx)',
  defaults(500, 500),
);
export const filesRange = fileScenario(
  'files-range',
  'range',
  '2,000 clients: 256 KiB ranges at random offsets of the MP4, TTFB p99 (estuary, nginx)',
  defaults(2000, 2000),
);
