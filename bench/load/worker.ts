/**
 * A load-generator process: `node --import tsx bench/load/worker.ts`, started by the harness
 * with an IPC channel. It gets one job (viewers or publishers), runs it to its end and answers
 * with one report. It never outlives its job: a deadline ends it even if sockets hang.
 */
import { Histogram } from '../lib/histogram.js';
import { HttpFlvViewer } from './http-flv-viewer.js';
import type { HarnessMessage, PublishJob, ViewJob, WorkerMessage, WorkerReport } from './job.js';
import { RtmpLiteViewer } from './rtmp-lite-viewer.js';
import { loadLoopSource, TagPublisher } from './tag-publisher.js';
import { ViewStats } from './view-stats.js';
import type { BenchViewer, ViewerOptions } from './viewer.js';
import { WsFlvViewer } from './ws-flv-viewer.js';

/** Source addresses 127.0.0.2 … 127.0.0.254: each has its own ~28,000 ephemeral ports. */
const SOURCE_ADDRESSES = 253;
const SWEEP_MS = 200;
const PUBLISH_TICK_MS = 5;
/** The origin's kill time once the harness announces it (edge-reconnect); shared by all viewers. */
const outage = { atMicros: Number.POSITIVE_INFINITY };

function send(msg: WorkerMessage): void {
  process.send?.(msg);
}

async function runView(job: ViewJob): Promise<WorkerReport> {
  const stats = new ViewStats();
  // Every viewer is held until the ramp's end plus holdMs (the last one opens at the ramp's
  // end), so all of them are connected together for holdMs: a hold counted from each viewer's
  // own start had 30,000 of 39,000 viewers connected at once at 1,000/s. The plateau ends
  // there, whatever viewers failed before: failures must not hide the rate the others got.
  const rampMs = (job.total * 1000) / job.rate;
  const endsAtEpoch = job.startAt + rampMs + job.holdMs;
  const endsAt = performance.now() + (endsAtEpoch - Date.now());
  stats.firstClosedAt = endsAtEpoch;
  const urls = (job.urls ?? [job.url]).map((u) => new URL(u));
  const live = new Set<BenchViewer>();
  let started = 0;
  let finished = 0;
  let resolveDone = () => {};
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  const onFinished = (v: BenchViewer) => {
    live.delete(v);
    if (++finished === job.count) resolveDone();
  };
  const open = (globalIndex: number) => {
    const opts: ViewerOptions = {
      endsAt,
      keyframeTimeoutMs: job.keyframeTimeoutMs,
      stallMs: job.stallMs,
      latency: job.latency,
      ...(job.watchOutage ? { outage } : {}),
      localAddress: `127.0.0.${2 + (globalIndex % SOURCE_ADDRESSES)}`,
    };
    const Shell =
      job.protocol === 'http-flv' ? HttpFlvViewer : job.protocol === 'ws-flv' ? WsFlvViewer : RtmpLiteViewer;
    live.add(new Shell(urls[globalIndex % urls.length]!, opts, stats, onFinished));
  };
  // Viewer i (global) opens at startAt + i / rate; this worker owns first, first + step, ….
  const ramp = setInterval(() => {
    const now = Date.now();
    while (started < job.count) {
      const g = job.first + started * job.step;
      if (job.startAt + (g * 1000) / job.rate > now) break;
      open(g);
      started++;
    }
    if (started === job.count) {
      clearInterval(ramp);
      stats.allConnectedAt = Date.now();
    }
  }, 5);
  const sweep = setInterval(() => {
    const now = performance.now();
    // Judged after this iteration's poll phase (timers run before it): a load process that
    // waited for a core reads what is already in its sockets before any viewer is failed for it.
    setImmediate(() => {
      for (const v of live) v.sweep(now);
      send({ type: 'progress', connected: live.size, done: finished });
    });
  }, SWEEP_MS);
  const deadline = setTimeout(
    () => {
      for (const v of live) v.end('worker deadline');
      resolveDone();
    },
    Math.max(0, job.startAt - Date.now()) + rampMs + job.holdMs + 20_000,
  );
  if (job.count === 0) resolveDone();
  await done;
  clearInterval(ramp);
  clearInterval(sweep);
  clearTimeout(deadline);
  return stats.report();
}

async function runPublish(job: PublishJob): Promise<WorkerReport> {
  const source = loadLoopSource(job.file);
  const lag = new Histogram();
  const pubs = job.urls.map((u) => new TagPublisher(u, source, job.stampClock, lag));
  await new Promise((r) => setTimeout(r, Math.max(0, job.startAt - Date.now())));
  await Promise.all(pubs.map((p) => p.start()));
  send({ type: 'published', at: Date.now(), failed: pubs.filter((p) => p.failure).length });
  const tick = setInterval(() => {
    for (const p of pubs) p.tick();
  }, PUBLISH_TICK_MS);
  await new Promise((r) => setTimeout(r, job.durationMs));
  clearInterval(tick);
  await Promise.all(pubs.map((p) => p.stop()));
  const failures: Record<string, number> = {};
  for (const p of pubs) if (p.failure) failures[p.failure] = (failures[p.failure] ?? 0) + 1;
  const cpu = process.cpuUsage();
  return {
    role: 'publish',
    publishers: pubs.length,
    failures,
    lag: lag.toSparse(),
    bytes: pubs.reduce((a, p) => a + p.bytes, 0),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

let started = false;
process.on('message', (msg: HarnessMessage) => {
  if ('type' in msg) {
    if (msg.type === 'outage') outage.atMicros = msg.atMs * 1000;
    return;
  }
  if (started) return;
  started = true;
  const job = msg;
  const run = job.role === 'view' ? runView(job) : runPublish(job);
  run.then(
    (report) => {
      send({ type: 'done', report });
      process.disconnect?.();
      setTimeout(() => process.exit(0), 200).unref();
    },
    (err: Error) => {
      send({ type: 'error', message: err.stack ?? err.message });
      process.exit(1);
    },
  );
});
// The harness kills workers it no longer needs; a worker whose harness died ends too.
process.on('disconnect', () => setTimeout(() => process.exit(0), 1000).unref());
send({ type: 'ready' });
