import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ViewProtocol } from '../load/job.js';
import type { BenchOptions } from './args.js';
import { makeSource } from './media.js';
import { ProcSampler, type ProcShare } from './proc-stats.js';
import type { ProcessGroup } from './processes.js';
import { startFfmpegPublisher } from './publisher.js';
import { type ServerKind, type ServerUnderTest, startServer } from './servers.js';
import { waitForStream } from './stream-probe.js';
import {
  type MergedViews,
  mergeViews,
  runPublishers,
  runViewers,
  startWorkers,
  workersFor,
} from './workers.js';

/** CPU profiles are large: kept out of the repository, quoted in RESULTS.md. */
const PROFILES = join(tmpdir(), 'estuary-bench-profiles');
/** Long enough for the GOP cache to hold a whole GOP (2 s at -g 50, 25 fps) before viewers join. */
const WARM_UP_MS = 2_500;
const STREAM = 'bench';

export interface ViewRunSpec {
  server: ServerKind;
  viewers: number;
  protocol: ViewProtocol;
  /** Publish with the SEI-stamping tag publisher (latency) instead of FFmpeg. */
  stampClock: boolean;
  opts: BenchOptions;
}

export interface ServerFigures {
  cpuSeconds: number;
  peakRssMiB: number;
  /** RSS before the viewers joined and the median while all of them were connected (MiB). */
  baseRssMiB: number;
  plateauRssMiB: number;
  killedOverRssCap: boolean;
  /** With --workers: the primary's and each worker's CPU seconds and peak open files (≈ connections). */
  perProcess?: ProcShare[];
  /** Seconds the server's processes were runnable but waiting for a core (summed). */
  waitSeconds: number;
}

export interface ViewRunResult {
  server: { kind: ServerKind; version: string };
  protocol: ViewProtocol;
  views: MergedViews;
  serverFigures: ServerFigures;
}

const mib = (b: number) => Math.round(b / 2 ** 20);

/** The protocol a server is measured with: nginx-rtmp has only RTMP play. */
export function protocolFor(server: ServerKind, wanted: ViewProtocol): ViewProtocol {
  return server === 'nginx' ? 'rtmp' : wanted;
}

/**
 * One measurement: start the server, publish one stream, warm the GOP cache, run the viewers
 * from load workers, sample the server's CPU and RSS throughout, stop everything.
 */
export async function viewRun(group: ProcessGroup, spec: ViewRunSpec): Promise<ViewRunResult> {
  const { opts } = spec;
  const source = makeSource({ kbps: opts.kbps, seconds: 60 });
  const totalSeconds = opts.seconds + spec.viewers / opts.rate + 30;
  let nodeArgs: string[] = [];
  if (opts.cpuProf && spec.server !== 'nginx') {
    mkdirSync(PROFILES, { recursive: true });
    nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${PROFILES}`];
    console.log(`CPU profile of ${spec.server} → ${PROFILES}/`);
  }
  const server: ServerUnderTest = await startServer(group, spec.server, {
    record: opts.record ?? false,
    extraArgs: spec.server === 'estuary' ? opts.estuaryArgs : [],
    nodeArgs,
    nginxWorkers: opts.serverWorkers,
  });
  let killed = false;
  const sampler = new ProcSampler(server.pid, 500, {
    capBytes: opts.rssCapGiB * 2 ** 30,
    action: () => {
      killed = true;
      server.child.kill('SIGKILL');
    },
  });
  const nWorkers = opts.workers ?? workersFor(spec.viewers, 2);
  let publisher: ChildProcess | undefined;
  const workers = await startWorkers(group, nWorkers + (spec.stampClock ? 1 : 0));
  try {
    if (spec.stampClock) {
      const pubWorker = workers.pop()!;
      // Its report is not awaited: the run ends it when the viewers are done.
      runPublishers(pubWorker, {
        urls: [server.rtmpUrl(STREAM)],
        file: source,
        stampClock: true,
        startAt: Date.now(),
        durationMs: totalSeconds * 1000,
      }).catch(() => undefined);
    } else {
      publisher = startFfmpegPublisher(group, source, server.rtmpUrl(STREAM));
    }
    await waitForStream(server.httpFlvUrl(STREAM), server.rtmpUrl(STREAM));
    await new Promise((r) => setTimeout(r, WARM_UP_MS));
    const base = sampler.now();
    const protocol = protocolFor(spec.server, spec.protocol);
    const url =
      protocol === 'rtmp'
        ? server.rtmpUrl(STREAM)
        : protocol === 'ws-flv'
          ? server.wsFlvUrl(STREAM)
          : server.httpFlvUrl(STREAM);
    const reports = await runViewers(workers, {
      protocol,
      url: url!,
      total: spec.viewers,
      rate: opts.rate,
      holdMs: opts.seconds * 1000,
      keyframeTimeoutMs: 5_000,
      stallMs: 5_000,
      latency: spec.stampClock,
    });
    const views = mergeViews(reports);
    const trace = sampler.stop();
    const plateau = trace.samples
      .filter((s) => s.t >= views.plateauStart && s.t <= views.plateauEnd)
      .map((s) => s.rss)
      .sort((a, b) => a - b);
    const figures: ServerFigures = {
      cpuSeconds: Math.round(trace.cpuSeconds * 10) / 10,
      peakRssMiB: mib(trace.peakRss),
      baseRssMiB: mib(base?.rss ?? 0),
      plateauRssMiB: mib(plateau[Math.floor(plateau.length / 2)] ?? 0),
      killedOverRssCap: killed,
      waitSeconds: Math.round(trace.perProcess.reduce((a, p) => a + p.waitSeconds, 0) * 10) / 10,
      ...(trace.perProcess.length > 1 ? { perProcess: trace.perProcess } : {}),
    };
    // The publisher first (else FFmpeg reports the broken pipe), then the server gracefully
    // (a --cpu-prof profile is written at exit).
    if (publisher) await group.stop(publisher);
    await group.stop(server.child, 10_000);
    return {
      server: { kind: server.kind, version: server.version },
      protocol,
      views,
      serverFigures: figures,
    };
  } finally {
    sampler.stop();
    await group.stopAll();
  }
}
