import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));
const RESULTS_MD = fileURLToPath(new URL('../RESULTS.md', import.meta.url));
const START = '<!-- figures:start (written by `npm run bench -- report`) -->';
const END = '<!-- figures:end -->';
const SCENARIOS = [
  'origin-scale',
  'throughput',
  'latency',
  'ingest',
  'memory',
  'edge-scale',
  'edge-cascade',
  'edge-reconnect',
];

// The JSON lines are the harness's own records; these are the fields the tables read.
interface Summary {
  p50: number;
  p95: number;
  p99: number;
}
interface Run {
  scenario: string;
  label?: string;
  at: string;
  command: string;
  commit: string;
  machine: { cores: number; cpu: string; memoryGiB: number; kernel: string; node: string };
  server: { kind: string; version: string };
  protocol?: string;
  viewers?: number;
  publishers?: number;
  views: {
    viewers: number;
    succeeded: number;
    failed: number;
    failures: Record<string, number>;
    ttfbMs: Summary;
    firstKeyframeMs: Summary;
    latencyMs: Summary & { n: number };
    plateauMbps: number;
  };
  serverFigures: Record<string, number | boolean>;
  cpuSecondsPerGbit?: number | null;
  rssPerViewerKB?: number;
  sendLagMs?: Summary;
  targets?: Record<string, boolean>;
  // The edge scenarios' own fields (bench/scenarios/edge.ts).
  originViewers?: { min: number | null; max: number | null };
  latencyByTier?: Summary[];
  addedPerTierMs?: { p50: number; p99: number };
  resumedViewers?: number;
  neverResumed?: number;
  lostViewers?: number;
  failedBeforeKill?: number;
  /** Set by runs that measure each viewer's first new frame (runs without it counted pauses). */
  resumeDefinition?: string;
  resumeAfterOriginMs?: Summary & { max: number };
  originDownMs?: number;
}

function load(scenario: string): Run[] {
  const file = `${RESULTS_DIR}${scenario}.jsonl`;
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Run)
    .filter((r) => r.label !== undefined);
}

const fails = (r: Run) =>
  r.views.failed === 0
    ? '0'
    : `${r.views.failed} (${Object.entries(r.views.failures)
        .map(([k, n]) => `${n}× ${k}`)
        .join('; ')})`;
const p3 = (s: Summary) => `${s.p50} / ${s.p95} / ${s.p99}`;
const met = (r: Run) =>
  r.targets
    ? Object.entries(r.targets)
        .map(([k, v]) => `${k} ${v ? '✓' : '✗'}`)
        .join(', ')
    : '';

function table(scenario: string, runs: Run[]): string {
  const head: Record<string, string[]> = {
    'origin-scale': [
      'viewers',
      'failed',
      'first keyframe p50/p95/p99 ms',
      'plateau Mbit/s',
      'server CPU s',
      'peak RSS MiB',
    ],
    throughput: [
      'viewers',
      'failed',
      'plateau Mbit/s',
      'CPU s per Gbit',
      'first keyframe p50/p95/p99 ms',
      'peak RSS MiB',
    ],
    latency: ['viewers', 'failed', 'delay p50/p95/p99 ms', 'first keyframe p50/p95/p99 ms', 'server CPU s'],
    ingest: [
      'publishers',
      'real time',
      'send lag p50/p99 ms',
      'viewer delay p50/p99 ms',
      '% core per stream',
      'peak RSS MiB',
    ],
    memory: ['viewers', 'failed', 'RSS base → plateau MiB', 'RSS per viewer KB', 'peak RSS MiB'],
    'edge-scale': [
      'viewers',
      'failed',
      'first keyframe p50/p95/p99 ms',
      'plateau Mbit/s',
      'edge CPU s',
      'edge peak RSS MiB',
      'viewers at the origin',
    ],
    'edge-cascade': [
      'viewers (tier 3)',
      'failed',
      'delay p50/p99 ms: origin, tier 1, 2, 3',
      'added per tier p50 / p99 ms',
    ],
    'edge-reconnect': [
      'viewers',
      'lost',
      'origin down ms',
      'resumed / never resumed',
      "first new frame after the origin's return p50/p99/max ms",
    ],
  };
  const row = (r: Run): string[] => {
    const v = r.views;
    const f = r.serverFigures;
    switch (scenario) {
      case 'origin-scale':
        return [
          String(r.viewers),
          fails(r),
          p3(v.firstKeyframeMs),
          String(v.plateauMbps),
          String(f.cpuSeconds),
          String(f.peakRssMiB),
        ];
      case 'throughput':
        return [
          String(r.viewers),
          fails(r),
          String(v.plateauMbps),
          String(r.cpuSecondsPerGbit),
          p3(v.firstKeyframeMs),
          String(f.peakRssMiB),
        ];
      case 'latency':
        return [String(r.viewers), fails(r), p3(v.latencyMs), p3(v.firstKeyframeMs), String(f.cpuSeconds)];
      case 'ingest':
        return [
          String(r.publishers),
          String(r.targets?.realTime),
          `${r.sendLagMs?.p50} / ${r.sendLagMs?.p99}`,
          `${v.latencyMs.p50} / ${v.latencyMs.p99}`,
          String(f.percentOfCorePerStream),
          String(f.peakRssMiB),
        ];
      case 'edge-scale':
        return [
          String(r.viewers),
          fails(r),
          p3(v.firstKeyframeMs),
          String(v.plateauMbps),
          String(f.cpuSeconds),
          String(f.peakRssMiB),
          `${r.originViewers?.min}..${r.originViewers?.max}`,
        ];
      case 'edge-cascade':
        return [
          String(r.viewers),
          fails(r),
          (r.latencyByTier ?? []).map((l) => `${l.p50}/${l.p99}`).join(', '),
          `${r.addedPerTierMs?.p50} / ${r.addedPerTierMs?.p99}`,
        ];
      case 'edge-reconnect': {
        const m = r.resumeAfterOriginMs;
        return [
          String(r.viewers),
          r.lostViewers !== undefined
            ? `${r.lostViewers} (${r.failedBeforeKill} failed before the kill)`
            : fails(r),
          String(r.originDownMs),
          r.resumeDefinition ? `${r.resumedViewers} / ${r.neverResumed}` : '(not measured)',
          !r.resumeDefinition
            ? 'invalid: that harness counted every pause > 500 ms'
            : m
              ? `${m.p50} / ${m.p99} / ${m.max}`
              : '',
        ];
      }
      default:
        return [
          String(r.viewers),
          fails(r),
          `${f.baseRssMiB} → ${f.plateauRssMiB}`,
          String(r.rssPerViewerKB),
          String(f.peakRssMiB),
        ];
    }
  };
  const cols = ['run', 'server', ...head[scenario]!, 'targets'];
  const lines = [`| ${cols.join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`];
  for (const r of runs) {
    const server = `${r.server.kind} ${r.server.version}${r.protocol ? ` (${r.protocol})` : ''}`;
    lines.push(`| ${[`${r.label} ${r.at.slice(11, 16)}`, server, ...row(r), met(r)].join(' | ')} |`);
  }
  const commands = [...new Set(runs.map((r) => `${r.label}: \`${r.command}\` (commit ${r.commit})`))];
  return `### ${scenario}\n\n${lines.join('\n')}\n\n${commands.map((c) => `- ${c}`).join('\n')}\n`;
}

/** Rewrites the figures section of bench/RESULTS.md from the labelled runs in bench/results/. */
export function writeReport(): void {
  const parts: string[] = [];
  let machineLine = '';
  for (const s of SCENARIOS) {
    const runs = load(s);
    if (runs.length === 0) continue;
    const m = runs.at(-1)!.machine;
    machineLine = `Machine: ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}; load generator on the same machine.`;
    parts.push(table(s, runs));
  }
  const figures = `${START}\n${machineLine}\n\n${parts.join('\n')}${END}`;
  const old = existsSync(RESULTS_MD)
    ? readFileSync(RESULTS_MD, 'utf8')
    : `# Benchmark results\n\n${START}\n${END}\n`;
  const a = old.indexOf(START);
  const b = old.indexOf(END);
  const next =
    a >= 0 && b > a ? old.slice(0, a) + figures + old.slice(b + END.length) : `${old}\n${figures}\n`;
  writeFileSync(RESULTS_MD, next);
  console.log(`wrote ${RESULTS_MD}`);
}
