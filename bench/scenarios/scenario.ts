import type { BenchOptions, ScenarioDefaults } from '../lib/args.js';
import type { ProcShare } from '../lib/proc-stats.js';
import type { ProcessGroup } from '../lib/processes.js';
import { appendResult, commit, machine } from '../lib/results.js';
import { type ServerKind, unavailable } from '../lib/servers.js';
import type { ViewRunResult } from '../lib/view-run.js';

export interface ScenarioContext {
  group: ProcessGroup;
  opts: BenchOptions;
  /** The command line as typed, for the results. */
  command: string;
}

export interface Scenario {
  name: string;
  summary: string;
  defaults: ScenarioDefaults;
  run(ctx: ScenarioContext): Promise<void>;
}

/** The servers of this run that can run here; prints why the others are skipped. */
export function runnableServers(servers: ServerKind[]): ServerKind[] {
  return servers.filter((s) => {
    const why = unavailable(s);
    if (why) console.log(`${s}: ${why}`);
    return !why;
  });
}

/** Appends one run to bench/results/<scenario>.jsonl with the machine, versions and command. */
export function saveRun(scenario: string, ctx: ScenarioContext, result: Record<string, unknown>): void {
  const { opts } = ctx;
  appendResult(scenario, {
    scenario,
    label: opts.label,
    at: new Date().toISOString(),
    command: ctx.command,
    machine: machine(),
    commit: commit(),
    params: {
      seconds: opts.seconds,
      rate: opts.rate,
      kbps: opts.kbps,
      record: opts.record ?? false,
      estuaryArgs: opts.estuaryArgs,
    },
    ...result,
  });
}

/** One line per run for the console. */
export function describe(r: ViewRunResult, viewers: number): string {
  const v = r.views;
  const f = r.serverFigures;
  const fails = Object.entries(v.failures)
    .map(([k, n]) => `${n}× ${k}`)
    .join(', ');
  return [
    `${r.server.kind} ${r.server.version} ${r.protocol}: ${v.succeeded}/${viewers} ok`,
    fails ? ` (failed: ${fails})` : '',
    `; ttfb p50/p99 ${v.ttfbMs.p50}/${v.ttfbMs.p99} ms; first keyframe p50/p95/p99 ${v.firstKeyframeMs.p50}/${v.firstKeyframeMs.p95}/${v.firstKeyframeMs.p99} ms`,
    v.latencyMs.n > 0 ? `; delay p50/p99 ${v.latencyMs.p50}/${v.latencyMs.p99} ms` : '',
    `; plateau ${v.plateauMbps} Mbit/s over ${v.plateauSeconds} s`,
    `; server CPU ${f.cpuSeconds} s (${f.waitSeconds} s runnable but waiting for a core), RSS base/plateau/peak ${f.baseRssMiB}/${f.plateauRssMiB}/${f.peakRssMiB} MiB`,
    f.perProcess ? ` (${processShares(f.perProcess)})` : '',
    f.killedOverRssCap ? ' (KILLED over the RSS cap)' : '',
    `; load CPU ${v.loadCpuSeconds} s`,
  ].join('');
}

/** The primary and each worker on their own; short-lived helpers (lane makers) summed in one item. */
function processShares(shares: ProcShare[]): string {
  const helpers = shares.filter((p) => p.helper);
  const items = shares
    .filter((p) => !p.helper)
    .map(
      (p) =>
        `${p.root ? 'primary' : `worker ${p.pid}`} ${p.cpuSeconds} s CPU, ${p.waitSeconds} s waiting for a core, ${p.peakFds} fds`,
    );
  if (helpers.length > 0) {
    const cpu = Math.round(helpers.reduce((a, p) => a + p.cpuSeconds, 0) * 100) / 100;
    items.push(`${helpers.length} short-lived helper processes ${cpu} s CPU`);
  }
  return items.join('; ');
}
