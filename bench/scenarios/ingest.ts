import { readdirSync } from 'node:fs';
import { Histogram } from '../lib/histogram.js';
import { makeSource } from '../lib/media.js';
import { ProcSampler } from '../lib/proc-stats.js';
import { startServer } from '../lib/servers.js';
import { waitForStream } from '../lib/stream-probe.js';
import { mergeViews, runPublishers, runViewers, startWorkers } from '../lib/workers.js';
import { runnableServers, type Scenario, saveRun } from './scenario.js';

/** Above this the publishers fell behind real time (tags left later than scheduled). */
const REAL_TIME_LAG_MS = 500;
/** Publishers per load worker: 25 × 2.5 Mbit/s is light work for one process. */
const PUBLISHERS_PER_WORKER = 25;

/**
 * Concurrent 2.5 Mbit/s publishers with every recorder on (Estuary: FLV, HLS, MP4; NMS: its
 * FLV recorder). Each stream also has one HTTP-FLV viewer that measures publish-to-view delay,
 * so "keeps real time" means: no publisher ever waited on the server (send lag p99 below
 * 500 ms), every viewer got its stream, and the delay stayed under a second.
 * Target: real time with ≥ 50 publishers; CPU per stream vs Node-Media-Server.
 */
export const ingest: Scenario = {
  name: 'ingest',
  summary: 'concurrent 2.5 Mbit/s publishers, recorders on: keeps real time (target ≥ 50)',
  defaults: {
    viewers: [1],
    seconds: 30,
    servers: ['estuary', 'nms'],
    rate: 100,
    kbps: 2500,
    protocol: 'http-flv',
    publishers: 50,
    record: true,
  },
  async run(ctx) {
    const { opts, group } = ctx;
    const n = opts.publishers;
    const source = makeSource({ kbps: opts.kbps, seconds: 60 });
    for (const kind of runnableServers(opts.servers)) {
      const server = await startServer(group, kind, {
        record: opts.record ?? true,
        extraArgs: kind === 'estuary' ? opts.estuaryArgs : [],
      });
      const sampler = new ProcSampler(server.pid, 500);
      try {
        const pubWorkers = Math.ceil(n / PUBLISHERS_PER_WORKER);
        const workers = await startWorkers(group, pubWorkers + 1);
        const viewWorker = workers.pop()!;
        const names = Array.from({ length: n }, (_, i) => `ingest${i}`);
        const startAt = Date.now();
        const durationMs = (opts.seconds + 12) * 1000;
        const pubs = workers.map((w, i) =>
          runPublishers(w, {
            urls: names.filter((_, j) => j % pubWorkers === i).map((s) => server.rtmpUrl(s)),
            file: source,
            stampClock: true,
            startAt,
            durationMs,
          }),
        );
        await waitForStream(server.httpFlvUrl(names.at(-1)!), server.rtmpUrl(names.at(-1)!));
        await new Promise((r) => setTimeout(r, 2500));
        const cpuBefore = sampler.now()?.cpuSeconds ?? 0;
        const t0 = Date.now();
        const views = mergeViews(
          await runViewers([viewWorker], {
            protocol: 'http-flv',
            url: server.httpFlvUrl(names[0]!)!,
            urls: names.map((s) => server.httpFlvUrl(s)!),
            total: n,
            rate: opts.rate,
            holdMs: opts.seconds * 1000,
            keyframeTimeoutMs: 5000,
            stallMs: 5000,
            latency: true,
          }),
        );
        const cpuDuring = (sampler.now()?.cpuSeconds ?? 0) - cpuBefore;
        const wall = (Date.now() - t0) / 1000;
        const reports = await Promise.all(pubs);
        const lag = new Histogram();
        const pubFailures: Record<string, number> = {};
        for (const r of reports) {
          lag.merge(Histogram.fromSparse(r.lag));
          for (const [k, v] of Object.entries(r.failures)) pubFailures[k] = (pubFailures[k] ?? 0) + v;
        }
        const trace = sampler.stop();
        const lagS = lag.summary();
        const realTime =
          Object.keys(pubFailures).length === 0 &&
          lagS.p99 < REAL_TIME_LAG_MS &&
          views.failed === 0 &&
          views.latencyMs.p99 < 1000;
        const perStreamCore = Math.round((cpuDuring / wall / n) * 1e4) / 100;
        console.log(
          `[ingest] ${kind} ${server.version}: ${n} publishers, real time: ${realTime}; send lag p50/p99 ${lagS.p50}/${lagS.p99} ms; ` +
            `viewers ${views.succeeded}/${n} ok, delay p50/p99 ${views.latencyMs.p50}/${views.latencyMs.p99} ms; ` +
            `server CPU ${(cpuDuring / wall).toFixed(2)} cores = ${perStreamCore}% of a core per stream; peak RSS ${Math.round(trace.peakRss / 2 ** 20)} MiB` +
            (Object.keys(pubFailures).length ? `; publisher failures ${JSON.stringify(pubFailures)}` : ''),
        );
        saveRun('ingest', ctx, {
          server: { kind, version: server.version },
          publishers: n,
          publisherFailures: pubFailures,
          sendLagMs: lagS,
          views,
          serverFigures: {
            coresUsed: Math.round((cpuDuring / wall) * 100) / 100,
            percentOfCorePerStream: perStreamCore,
            peakRssMiB: Math.round(trace.peakRss / 2 ** 20),
          },
          targets: { realTime, met: realTime && n >= 50 },
        });
      } finally {
        sampler.stop();
        await group.stop(server.child, 15_000);
        await group.stopAll();
        console.log(`[ingest] ${kind}: ${countFiles(server.dataDir)} recording files written`);
      }
    }
  },
};

function countFiles(dir: string): number {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
  } catch {
    return 0;
  }
}
