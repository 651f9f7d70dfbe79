/**
 * Peak memory of the fMP4 → MP4 merge over a long recording (issue 3: "memory that does not grow
 * with the recording's length"). Records MINUTES (default 30) of media through the real MP4
 * recorder, fed directly: the 10 s B-frame fixture's frames repeated with increasing timestamps.
 * Then merges the segments again in a fresh child process and reports that process's peak RSS,
 * next to a child that only loads the same modules (the baseline).
 *
 *   npm run bench -- mp4-merge [MINUTES]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { bufferReader, Mp4Demuxer } from '../src/formats/mp4/demuxer.js';
import type { LiveStream } from '../src/hub/live-stream.js';
import type { MediaFrame } from '../src/media/frame.js';
import { mp4RecorderFactory } from '../src/record/fmp4/from-stream.js';
import { mergeFragments } from '../src/record/fmp4/merge-mp4.js';

const FIXTURE = new URL('../test/fixtures/media/h264-aac-bframes-10s.mp4', import.meta.url).pathname;
/** Each repeat of the 10 s fixture starts 10.1 s after the last (past its last audio frame). */
const PERIOD_MS = 10_100;

function mergeDir(dir: string): { init: string; segments: string[] } {
  const m = join(dir, 'output_merge');
  const segments = readdirSync(m)
    .filter((f) => f.startsWith('seg') && f.endsWith('.m4s'))
    .sort()
    .map((f) => join(m, f));
  return { init: join(m, 'init.mp4'), segments };
}

/** Child: merge (or only load, for the baseline) and print the peak RSS in MiB. */
async function child(mode: string, dir: string): Promise<void> {
  const started = performance.now();
  const peak = { heapUsed: 0, external: 0, arrayBuffers: 0 };
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed / 2 ** 20);
    peak.external = Math.max(peak.external, m.external / 2 ** 20);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers / 2 ** 20);
  }, 20);
  let samples: Record<number, number> = {};
  if (mode === '--merge') {
    const { init, segments } = mergeDir(dir);
    samples = (await mergeFragments(init, segments, join(dir, 'bench_full.mp4'))).samples;
  }
  clearInterval(sampler);
  const maxRssMiB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ maxRssMiB, ms: Math.round(performance.now() - started), samples, peak }));
}

function segmentCount(dir: string): number {
  try {
    return readdirSync(join(dir, 'output_merge')).filter((f) => f.endsWith('.m4s')).length;
  } catch {
    return 0; // the recorder creates its folders with its first queued write
  }
}

async function record(dir: string, minutes: number): Promise<void> {
  const demuxer = await Mp4Demuxer.open(bufferReader(readFileSync(FIXTURE)));
  const frames: MediaFrame[] = [];
  for await (const f of demuxer.frames()) frames.push(f);
  const track = (kind: string) => demuxer.tracks.find((d) => d.track.kind === kind)?.track;
  // The recorder reads only the current tracks from its stream; a full LiveStream would need a hub.
  const stream = { videoTrack: track('video'), audioTrack: track('audio') } as unknown as LiveStream;
  mkdirSync(dir, { recursive: true });
  const problems: string[] = [];
  const recorder = mp4RecorderFactory.create({
    stream,
    dir,
    ready: Promise.resolve(),
    startedAt: new Date(),
    log: pino({ level: 'warn' }, { write: (line: string) => void problems.push(line.trim()) }),
    sessionId: '20250101_000000',
    segmentSeconds: 2,
    hlsWindow: 0,
    hlsCleanup: false,
  });
  const repeats = Math.ceil((minutes * 60_000) / PERIOD_MS);
  for (let k = 0; k < repeats; k++) {
    for (const f of frames)
      recorder.onFrame({ ...f, dts: f.dts + k * PERIOD_MS, pts: f.pts + k * PERIOD_MS }, stream);
    // Pace the feed like a socket would: wait until the disk has this repeat's ~5 segments.
    const want = 5 * (k + 1) - 2;
    while (segmentCount(dir) < want) {
      if (problems.length > 0) throw new Error(`the recorder failed: ${problems.join('; ')}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  await recorder.finish('bench');
  if (problems.length > 0) throw new Error(`the recorder failed: ${problems.join('; ')}`);
}

interface ChildResult {
  maxRssMiB: number;
  ms: number;
  samples: Record<number, number>;
  /** Peaks of process.memoryUsage() sampled every 20 ms, MiB. */
  peak: Record<string, number>;
}

function runChild(mode: string, dir: string): ChildResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', import.meta.filename, mode, dir], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`child ${mode} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

async function main(): Promise<void> {
  const first = process.argv[2];
  // Run as `bench/run.ts mp4-merge …` or directly; the child modes are `--merge DIR` / `--baseline DIR`.
  const args = first === 'mp4-merge' ? process.argv.slice(3) : process.argv.slice(2);
  if (args[0] === '--merge' || args[0] === '--baseline') return child(args[0], args[1]);
  const minutes = Number(args[0] ?? 30);
  const dir = mkdtempSync(join(tmpdir(), 'estuary-bench-merge-'));
  try {
    const t0 = performance.now();
    await record(dir, minutes);
    const { segments } = mergeDir(dir);
    const bytes = segments.reduce((n, s) => n + statSync(s).size, 0);
    console.log(
      `recorded ${minutes} min: ${segments.length} merged segments, ${(bytes / 2 ** 20).toFixed(1)} MiB, ${Math.round(performance.now() - t0)} ms`,
    );
    const base = runChild('--baseline', dir);
    const merge = runChild('--merge', dir);
    const out = statSync(join(dir, 'bench_full.mp4')).size;
    console.log(
      `merge: ${merge.ms} ms, samples ${JSON.stringify(merge.samples)}, output ${(out / 2 ** 20).toFixed(1)} MiB`,
    );
    console.log(`merge peaks (MiB, sampled every 20 ms): ${JSON.stringify(merge.peak)}`);
    console.log(
      `peak RSS: merge ${merge.maxRssMiB.toFixed(1)} MiB, baseline (modules loaded, no merge) ${base.maxRssMiB.toFixed(1)} MiB, difference ${(merge.maxRssMiB - base.maxRssMiB).toFixed(1)} MiB`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
