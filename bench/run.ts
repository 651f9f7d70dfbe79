/**
 * `npm run bench -- SCENARIO [options]`: the benchmark dispatcher. Each scenario starts the
 * server(s) under test, the publisher and the load workers itself, stops every one of them when
 * it ends (also on errors and Ctrl-C), and appends one JSON line per run to
 * bench/results/<scenario>.jsonl. Never part of `npm test`. See bench/README.md.
 */
import { parseBenchArgs } from './lib/args.js';
import { ProcessGroup } from './lib/processes.js';
import { writeReport } from './lib/report.js';
import { edgeCascade, edgeReconnect, edgeScale } from './scenarios/edge.js';
import { filesDownload, filesLive, filesRange } from './scenarios/files.js';
import { ingest } from './scenarios/ingest.js';
import { latency } from './scenarios/latency.js';
import { memory } from './scenarios/memory.js';
import { originScale } from './scenarios/origin-scale.js';
import type { Scenario } from './scenarios/scenario.js';
import { throughput } from './scenarios/throughput.js';

const SCENARIOS: readonly Scenario[] = [
  originScale,
  throughput,
  latency,
  ingest,
  memory,
  edgeScale,
  edgeCascade,
  edgeReconnect,
  filesLive,
  filesDownload,
  filesRange,
];
/** `npm run bench -- files [options]`: the three file-gateway rows in turn. */
const FILES_SCENARIOS: readonly Scenario[] = [filesLive, filesDownload, filesRange];
/** `npm run bench -- edge [options]`: the three edge rows in turn, the options applied to each. */
const EDGE_SCENARIOS: readonly Scenario[] = [edgeScale, edgeCascade, edgeReconnect];

const USAGE = `Usage: npm run bench -- SCENARIO [options]

Scenarios:
${SCENARIOS.map((s) => `  ${s.name.padEnd(14)}${s.summary}`).join('\n')}
  edge             edge-scale, edge-cascade and edge-reconnect in turn
  files            files-live, files-download and files-range in turn
  report           rewrite the figures in bench/RESULTS.md from the labelled runs in bench/results/
  mp4-merge [MIN]  peak memory of the fMP4 → MP4 merge over a long recording (bench/mp4-merge.ts)
  convert [MIN] [--reps N]  estuary convert beside ffmpeg -c copy (+faststart), FLV → MP4 and HLS (bench/convert.ts)

Options (defaults per scenario: bench/README.md):
  --viewers N[,N…]     viewers (a list runs a ladder; origin-scale stops at the first failing step)
  --seconds S          how long each viewer is held
  --server LIST        estuary,nms,nginx (comma-separated; nginx runs RTMP play)
  --rate R             viewers opened per second
  --kbps K             stream bit rate
  --protocol P         http-flv | ws-flv | rtmp (for Estuary and NMS)
  --publishers N       publishers (ingest)
  --workers N          load-generator processes (default: one per 9,000 sockets, at least 2 above 2,000)
  --record / --no-record   recorders on or off in the server under test
  --estuary-args "…"   extra arguments for estuary serve
  --cpu-prof           run the Node servers under --cpu-prof (profiles in $TMPDIR/estuary-bench-profiles/)
  --rss-cap GIB        kill a server whose RSS passes this (default 12)
  --label TEXT         tag the run (e.g. before, after); RESULTS.md lists labelled runs`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === 'report') {
    writeReport();
    return 0;
  }
  if (name === 'convert') {
    // Self-running like mp4-merge: reads its own arguments from process.argv.
    await import('./convert.js');
    return 0;
  }
  if (name === 'mp4-merge') {
    // A self-running script (top-level await) that reads its own arguments from process.argv.
    await import('./mp4-merge.js');
    return 0;
  }
  const scenarios =
    name === 'edge'
      ? EDGE_SCENARIOS
      : name === 'files'
        ? FILES_SCENARIOS
        : SCENARIOS.filter((s) => s.name === name);
  if (scenarios.length === 0) {
    console.log(USAGE);
    return name === undefined || name === '--help' ? 0 : 2;
  }
  for (const scenario of scenarios) {
    const opts = parseBenchArgs(rest, scenario.defaults);
    const group = new ProcessGroup();
    try {
      await scenario.run({ group, opts, command: `npm run bench -- ${argv.join(' ')}` });
    } finally {
      await group.stopAll();
    }
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`bench: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
