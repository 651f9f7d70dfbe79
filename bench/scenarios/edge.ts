/**
 * The FLV edge gateway's rows (issue 12): `estuary serve` as the origin and one or more
 * `estuary flv-gateway` processes in front of it, all compiled (bin/estuary.js), viewers from
 * the load workers on the last tier.
 *
 * - edge-scale: HTTP-FLV viewers of a 250 kbit/s stream on one edge, opened at 1,000/s, held
 *   30 s. Target 19,500 at 0 failures, first keyframe p99 < 1 s, the origin seeing one viewer.
 * - edge-cascade: origin → edge → edge → edge, 1,000 viewers on the last tier; the delay each
 *   tier adds, from the publisher's wall-clock SEI (bench/README.md "Latency"). Target p50 < 10
 *   ms, p99 < 50 ms per tier.
 * - edge-reconnect: the origin process killed and restarted on the same ports under 10,000 edge
 *   viewers. Target 0 viewers lost, video back within 2 s of the origin's return.
 */
import type { ChildProcess } from 'node:child_process';
import type { BenchOptions } from '../lib/args.js';
import { Histogram } from '../lib/histogram.js';
import { loadAverage } from '../lib/load-average.js';
import { makeSource } from '../lib/media.js';
import { ProcSampler, type ProcTrace } from '../lib/proc-stats.js';
import type { ProcessGroup } from '../lib/processes.js';
import { startFfmpegPublisher } from '../lib/publisher.js';
import {
  type EdgeUnderTest,
  type ServerUnderTest,
  startEdge,
  startNmsRelayEdge,
  startServer,
  unavailable,
} from '../lib/servers.js';
import { waitForStream } from '../lib/stream-probe.js';
import {
  announceOutage,
  type MergedViews,
  mergeViews,
  runPublishers,
  runViewers,
  startWorkers,
  workersFor,
} from '../lib/workers.js';
import { AFTER_KILL } from '../load/viewer.js';
import { type Scenario, type ScenarioContext, saveRun } from './scenario.js';

const STREAM = 'bench';
/** The GOP cache holds a whole GOP (2 s at -g 50, 25 fps) before viewers join. */
const WARM_UP_MS = 2_500;

const mib = (b: number) => Math.round(b / 2 ** 20);

interface Figures {
  cpuSeconds: number;
  peakRssMiB: number;
  killedOverRssCap: boolean;
}

function figures(trace: ProcTrace, killed: boolean): Figures {
  return {
    cpuSeconds: Math.round(trace.cpuSeconds * 10) / 10,
    peakRssMiB: mib(trace.peakRss),
    killedOverRssCap: killed,
  };
}

/** Samples a process, killing it past the RSS cap (a runaway must not take the machine). */
function sample(
  pid: number,
  child: ChildProcess,
  opts: BenchOptions,
): { sampler: ProcSampler; killed: () => boolean } {
  let killed = false;
  const sampler = new ProcSampler(pid, 500, {
    capBytes: opts.rssCapGiB * 2 ** 30,
    action: () => {
      killed = true;
      child.kill('SIGKILL');
    },
  });
  return { sampler, killed: () => killed };
}

/** Live viewers of the bench stream on an Estuary origin or edge, from its /api/streams. */
async function viewersAt(apiUrl: string): Promise<number | undefined> {
  try {
    const body = (await (await fetch(apiUrl)).json()) as {
      streams: { stream: string; viewers: { total: number } }[];
    };
    return body.streams.find((s) => s.stream === STREAM)?.viewers.total;
  } catch {
    return undefined;
  }
}

/** Polls a count every `ms` until stopped; keeps its smallest and largest value. */
function watchCount(read: () => Promise<number | undefined>, ms = 1000) {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let samples = 0;
  const timer = setInterval(() => {
    void read().then((n) => {
      if (n === undefined) return;
      samples++;
      min = Math.min(min, n);
      max = Math.max(max, n);
    });
  }, ms);
  return {
    stop: () => {
      clearInterval(timer);
      return { min: samples ? min : null, max: samples ? max : null, samples };
    },
  };
}

function summaryLine(v: MergedViews, viewers: number): string {
  const fails = Object.entries(v.failures)
    .map(([k, n]) => `${n}× ${k}`)
    .join(', ');
  return [
    `${v.succeeded}/${viewers} ok`,
    fails ? ` (failed: ${fails})` : '',
    `; first keyframe p50/p99 ${v.firstKeyframeMs.p50}/${v.firstKeyframeMs.p99} ms`,
    v.latencyMs.n > 0 ? `; delay p50/p99 ${v.latencyMs.p50}/${v.latencyMs.p99} ms` : '',
    `; plateau ${v.plateauMbps} Mbit/s`,
  ].join('');
}

/** What runViewers is given for a scenario's viewers of `url`. */
function viewPlan(ctx: ScenarioContext, url: string, total: number, extra: { latency?: boolean } = {}) {
  return {
    protocol: ctx.opts.protocol,
    url,
    total,
    rate: ctx.opts.rate,
    holdMs: ctx.opts.seconds * 1000,
    keyframeTimeoutMs: 5_000,
    stallMs: 5_000,
    latency: extra.latency ?? false,
  };
}

function playUrl(ctx: ScenarioContext, edge: EdgeUnderTest): string {
  return ctx.opts.protocol === 'ws-flv' ? edge.wsFlvUrl(STREAM) : edge.flvUrl(STREAM);
}

async function startOrigin(group: ProcessGroup, ports?: ServerUnderTest['ports']): Promise<ServerUnderTest> {
  return startServer(group, 'estuary', { record: false, ...(ports ? { ports } : {}) });
}

export const edgeScale: Scenario = {
  name: 'edge-scale',
  summary: 'HTTP-FLV viewers of 250 kbps on one edge process (target 19,500 at 0 failures)',
  defaults: {
    viewers: [19500],
    seconds: 30,
    servers: ['estuary'],
    rate: 1000,
    kbps: 250,
    protocol: 'http-flv',
  },
  async run(ctx) {
    const { group, opts } = ctx;
    const source = makeSource({ kbps: opts.kbps, seconds: 60 });
    // Estuary's edge pulls HTTP-FLV; `--server nms` puts Node-Media-Server's relay (an RTMP pull
    // of the same Estuary origin) in the edge's place, viewers on its HTTP-FLV port.
    for (const kind of opts.servers) {
      const skip = kind === 'nginx' ? 'skipped: nginx-rtmp has no HTTP-FLV edge' : unavailable(kind);
      if (skip) {
        console.log(`[edge-scale] ${kind}: ${skip}`);
        continue;
      }
      for (const viewers of opts.viewers) {
        const origin = await startOrigin(group);
        const publisher = startFfmpegPublisher(group, source, origin.rtmpUrl(STREAM));
        const edge =
          kind === 'nms'
            ? await startNmsRelayEdge(group, origin.rtmpUrl(STREAM), STREAM)
            : await startEdge(group, origin.httpBase, { extraArgs: opts.estuaryArgs });
        const edgeVersion = 'version' in edge ? edge.version : origin.version;
        const workers = await startWorkers(group, opts.workers ?? workersFor(viewers, 2));
        try {
          await waitForStream(edge.flvUrl(STREAM), origin.rtmpUrl(STREAM));
          await new Promise((r) => setTimeout(r, WARM_UP_MS));
          const s = sample(edge.pid, edge.child, opts);
          const atOrigin = watchCount(() => viewersAt(origin.apiUrl!));
          const views = mergeViews(await runViewers(workers, viewPlan(ctx, playUrl(ctx, edge), viewers)));
          const originViewers = atOrigin.stop();
          const edgeFigures = figures(s.sampler.stop(), s.killed());
          const targets = {
            zeroFailures: views.failed === 0,
            firstKeyframeP99Under1s: views.firstKeyframeMs.p99 < 1000,
            originSawOneViewer: originViewers.min === 1 && originViewers.max === 1,
          };
          console.log(
            `[edge-scale] ${kind}: ${viewers} viewers on one edge: ${summaryLine(views, viewers)}; edge CPU ${edgeFigures.cpuSeconds} s, peak RSS ${edgeFigures.peakRssMiB} MiB; origin viewers ${originViewers.min}..${originViewers.max}`,
          );
          saveRun('edge-scale', ctx, {
            server: { kind, version: edgeVersion },
            protocol: opts.protocol,
            viewers,
            views: { ...views, resumes: undefined },
            serverFigures: edgeFigures,
            originViewers,
            targets: { ...targets, met: Object.values(targets).every(Boolean) && viewers >= 19500 },
          });
          if (views.failed > 0) break;
        } finally {
          await group.stop(publisher);
          await group.stopAll();
        }
      }
    }
  },
};

export const edgeCascade: Scenario = {
  name: 'edge-cascade',
  summary: 'origin → edge → edge → edge, 1,000 viewers on the last tier: delay added per tier',
  defaults: {
    viewers: [1000],
    seconds: 30,
    servers: ['estuary'],
    rate: 1000,
    kbps: 250,
    protocol: 'http-flv',
  },
  async run(ctx) {
    const { group, opts } = ctx;
    const viewers = opts.viewers[0]!;
    /** Viewers on the origin and on each tier above the last, to measure each tier's delay. */
    const probes = Math.min(50, Math.max(5, Math.round(viewers / 20)));
    const source = makeSource({ kbps: opts.kbps, seconds: 60 });
    const origin = await startOrigin(group);
    const tiers: EdgeUnderTest[] = [];
    let upstream = origin.httpBase;
    for (let i = 0; i < 3; i++) {
      const e = await startEdge(group, upstream, { extraArgs: opts.estuaryArgs });
      tiers.push(e);
      upstream = e.base;
    }
    const last = tiers[2]!;
    const mainWorkers = opts.workers ?? workersFor(viewers, 1);
    const workers = await startWorkers(group, mainWorkers + 3 + 1);
    try {
      const totalSeconds = opts.seconds + viewers / opts.rate + 30;
      runPublishers(workers.pop()!, {
        urls: [origin.rtmpUrl(STREAM)],
        file: source,
        stampClock: true,
        startAt: Date.now(),
        durationMs: totalSeconds * 1000,
      }).catch(() => undefined);
      await waitForStream(last.flvUrl(STREAM), origin.rtmpUrl(STREAM));
      await new Promise((r) => setTimeout(r, WARM_UP_MS));
      const s = sample(last.pid, last.child, opts);
      const probeUrls = [origin.httpFlvUrl(STREAM)!, tiers[0]!.flvUrl(STREAM), tiers[1]!.flvUrl(STREAM)];
      const runs = await Promise.all([
        runViewers(
          workers.slice(0, mainWorkers),
          viewPlan(ctx, playUrl(ctx, last), viewers, { latency: true }),
        ),
        ...probeUrls.map((u, i) =>
          runViewers([workers[mainWorkers + i]!], {
            ...viewPlan(ctx, u, probes, { latency: true }),
            protocol: 'http-flv',
          }),
        ),
      ]);
      const [onLast, ...onTiers] = runs.map(mergeViews) as [MergedViews, ...MergedViews[]];
      const byTier = [...onTiers, onLast].map((v) => v.latencyMs);
      // Percentiles do not add, so each tier's delay is the step between neighbouring tiers'
      // percentiles; the per-tier figure is the mean step over the three tiers.
      const steps = byTier
        .slice(1)
        .map((l, i) => ({ p50: l.p50 - byTier[i]!.p50, p99: l.p99 - byTier[i]!.p99 }));
      const perTier = {
        p50: Math.round(((byTier[3]!.p50 - byTier[0]!.p50) / 3) * 10) / 10,
        p99: Math.round(((byTier[3]!.p99 - byTier[0]!.p99) / 3) * 10) / 10,
      };
      const lastFigures = figures(s.sampler.stop(), s.killed());
      console.log(
        `[edge-cascade] ${viewers} viewers on tier 3: ${summaryLine(onLast, viewers)}; delay p50/p99 by tier (origin, 1, 2, 3): ${byTier.map((l) => `${l.p50}/${l.p99}`).join(', ')} ms; added per tier p50 ${perTier.p50} ms, p99 ${perTier.p99} ms`,
      );
      saveRun('edge-cascade', ctx, {
        server: { kind: 'estuary', version: origin.version },
        protocol: opts.protocol,
        viewers,
        probeViewersPerTier: probes,
        views: { ...onLast, resumes: undefined },
        latencyByTier: byTier,
        stepsMs: steps,
        addedPerTierMs: perTier,
        serverFigures: lastFigures,
        targets: {
          zeroFailures: onLast.failed === 0 && onTiers.every((v) => v.failed === 0),
          perTierP50Under10: perTier.p50 < 10,
          perTierP99Under50: perTier.p99 < 50,
        },
      });
    } finally {
      await group.stopAll();
    }
  },
};

/**
 * What the reconnect figures mean (printed with every run and saved with it):
 * - the kill: the harness's clock just before it SIGKILLs the origin (and tells the viewers);
 * - the origin's return: the restarted origin (same ports) accepted the publisher's RTMP
 *   publish again (its onStatus NetStream.Publish.Start, the publisher's clock);
 * - the edge back: the first poll (every 25 ms) of the edge's /api/streams that shows its pull
 *   live again with one more reconnect;
 * - a viewer's resume: the arrival of its first video frame that the publisher stamped (SEI
 *   wall clock) at or after the kill, i.e. the first frame of the new publish, which no buffer
 *   can have held before the kill. All clocks are this machine's.
 */
const RESUME_DEFINITION =
  "resume = a viewer's first video frame stamped (publisher's SEI clock) at or after the kill, from the origin's return = the restarted origin accepting the RTMP publish again";

interface Outage {
  origin: ServerUnderTest;
  killedAt: number;
  /** The restarted origin listened on its ports. */
  listeningAt: number;
  /** It accepted the publish again (the origin's return). */
  backAt: number;
  /** The edge's API showed its pull live again (undefined: not seen within the poll's bound). */
  edgeBackAt: number | undefined;
}

/** Whether the edge's pull of the bench stream is live after at least one reconnect. */
async function edgeReconnected(apiUrl: string): Promise<boolean> {
  try {
    const body = (await (await fetch(apiUrl)).json()) as {
      streams: { stream: string; upstream?: { state: string; reconnects: number } }[];
    };
    const up = body.streams.find((s) => s.stream === STREAM)?.upstream;
    return up !== undefined && up.state === 'live' && up.reconnects >= 1;
  } catch {
    return false;
  }
}

/**
 * Kills the origin, restarts it on the same ports and publishes again from a load worker that
 * was started beforehand (so the publisher's own start-up is not in the figure).
 */
async function restartOrigin(
  group: ProcessGroup,
  origin: ServerUnderTest,
  edge: EdgeUnderTest,
  viewWorkers: ChildProcess[],
  publisher: ChildProcess,
  job: { file: string; durationMs: number },
): Promise<Outage> {
  const killedAt = Date.now();
  announceOutage(viewWorkers, killedAt);
  origin.child.kill('SIGKILL');
  let edgeBackAt: number | undefined;
  const edgeWatch = (async () => {
    while (Date.now() - killedAt < 30_000) {
      if (await edgeReconnected(edge.apiUrl)) {
        edgeBackAt = Date.now();
        return;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  await new Promise((r) => origin.child.once('exit', r));
  const next = await startOrigin(group, origin.ports);
  const listeningAt = Date.now();
  const backAt = await new Promise<number>((resolve, reject) => {
    runPublishers(
      publisher,
      {
        urls: [next.rtmpUrl(STREAM)],
        file: job.file,
        stampClock: true,
        startAt: Date.now(),
        durationMs: job.durationMs,
      },
      (at, failed) =>
        failed ? reject(new Error('the publisher was refused by the restarted origin')) : resolve(at),
    ).catch(reject);
  });
  await edgeWatch;
  return { origin: next, killedAt, listeningAt, backAt, edgeBackAt };
}

export const edgeReconnect: Scenario = {
  name: 'edge-reconnect',
  summary: 'the origin killed and restarted under 10,000 edge viewers (target 0 lost, video back < 2 s)',
  defaults: {
    viewers: [10000],
    seconds: 30,
    servers: ['estuary'],
    rate: 1000,
    kbps: 250,
    protocol: 'http-flv',
  },
  async run(ctx) {
    const { group, opts } = ctx;
    const viewers = opts.viewers[0]!;
    const source = makeSource({ kbps: opts.kbps, seconds: 60 });
    let origin = await startOrigin(group);
    const edge = await startEdge(group, origin.httpBase, { extraArgs: opts.estuaryArgs });
    // Two publishers (the tag publisher, stamping every video frame with its send time): one
    // before the kill, one ready for the restarted origin.
    const workers = await startWorkers(group, (opts.workers ?? workersFor(viewers, 2)) + 2);
    const [before, after] = [workers.pop()!, workers.pop()!];
    const durationMs = (opts.seconds + viewers / opts.rate + 30) * 1000;
    try {
      runPublishers(before, {
        urls: [origin.rtmpUrl(STREAM)],
        file: source,
        stampClock: true,
        startAt: Date.now(),
        durationMs,
      }).catch(() => undefined);
      await waitForStream(edge.flvUrl(STREAM), origin.rtmpUrl(STREAM));
      await new Promise((r) => setTimeout(r, WARM_UP_MS));
      const s = sample(edge.pid, edge.child, opts);
      const rampMs = (viewers * 1000) / opts.rate;
      // Every viewer connected and watching for a while, then the origin goes.
      const killAfterMs = 500 + rampMs + Math.min(5000, (opts.seconds * 1000) / 4);
      const load = loadAverage();
      const outage = new Promise<Outage>((resolve, reject) => {
        setTimeout(() => {
          restartOrigin(group, origin, edge, workers, after, { file: source, durationMs }).then(
            resolve,
            reject,
          );
        }, killAfterMs);
      });
      const running = runViewers(workers, {
        ...viewPlan(ctx, playUrl(ctx, edge), viewers),
        watchOutage: true,
      });
      const out = await outage;
      origin = out.origin;
      const views = mergeViews(await running);
      const edgeFigures = figures(s.sampler.stop(), s.killed());
      const fromBack = new Histogram();
      const fromEdge = new Histogram();
      const fromKill = new Histogram();
      let resumed = 0;
      let beforeBack = 0;
      const lost = Object.entries(views.failures)
        .filter(([why]) => why.startsWith(AFTER_KILL))
        .reduce((a, [, n]) => a + n, 0);
      for (const [at, n] of views.resumes) {
        for (let i = 0; i < n; i++) {
          fromBack.record(at - out.backAt);
          fromKill.record(at - out.killedAt);
          if (out.edgeBackAt !== undefined) fromEdge.record(at - out.edgeBackAt);
        }
        if (at < out.backAt) beforeBack += n;
        resumed += n;
      }
      const r = fromBack.summary();
      const e = fromEdge.summary();
      const k = fromKill.summary();
      const edgeLag = out.edgeBackAt === undefined ? 'not seen' : `${out.edgeBackAt - out.backAt} ms`;
      console.log(`[edge-reconnect] ${RESUME_DEFINITION}`);
      console.log(
        [
          `[edge-reconnect] ${viewers} viewers (load ${load} before): ${summaryLine(views, viewers)}`,
          `origin listening ${out.listeningAt - out.killedAt} ms and back (publish accepted) ${out.backAt - out.killedAt} ms after the kill; edge's pull live again ${edgeLag} after the origin's return`,
          `viewers lost after the kill ${lost} (failed before it ${views.failed - lost}), resumed ${resumed}, never resumed ${views.neverResumed}${beforeBack ? ` (${beforeBack} "resumed" before the origin's return: a measuring error)` : ''}`,
          `resume after the origin's return p50/p99/max ${r.p50}/${r.p99}/${r.max} ms; after the edge was back ${e.p50}/${e.p99}/${e.max} ms; after the kill ${k.p50}/${k.p99}/${k.max} ms`,
        ].join('; '),
      );
      saveRun('edge-reconnect', ctx, {
        server: { kind: 'estuary', version: origin.version },
        protocol: opts.protocol,
        viewers,
        loadBefore: load,
        resumeDefinition: RESUME_DEFINITION,
        views: { ...views, resumes: undefined },
        serverFigures: edgeFigures,
        originDownMs: out.backAt - out.killedAt,
        originListeningAfterKillMs: out.listeningAt - out.killedAt,
        edgeBackAfterOriginMs: out.edgeBackAt === undefined ? null : out.edgeBackAt - out.backAt,
        resumedViewers: resumed,
        neverResumed: views.neverResumed,
        lostViewers: lost,
        failedBeforeKill: views.failed - lost,
        resumeAfterOriginMs: r,
        resumeAfterEdgeMs: e,
        resumeAfterKillMs: k,
        targets: {
          zeroLost: lost === 0,
          zeroFailures: views.failed === 0,
          everyViewerResumed: resumed === views.succeeded && resumed > 0,
          resumeWithin2s: fromBack.max < 2000,
        },
      });
    } finally {
      await group.stopAll();
    }
  },
};
