/**
 * `npm run bench -- convert [MINUTES]`: `estuary convert` beside `ffmpeg -i IN -c copy OUT` on
 * a long recording (issue 17: a 30-minute 2.5 Mbit/s H.264/AAC FLV), FLV → MP4 and FLV → HLS,
 * each tool's wall time and peak RSS measured by /usr/bin/time (GNU time: %e elapsed, %M maximum
 * resident set, from wait4's rusage, so it covers the whole process tree's largest member).
 * Targets: wall time within 1.5× FFmpeg's, peak RSS under 150 MB. FLV → MP4 also runs FFmpeg with
 * `-movflags +faststart`, the like-for-like (ours is fast start), shown beside plain `-c copy`;
 * the issue's ratio stays against plain `-c copy`. `--reps N` (default 3) runs every tool N
 * times, interleaved, and reports medians of wall and CPU (user + sys) time and the largest RSS.
 *
 * The source is made once by FFmpeg (lavfi testsrc2 + sine, x264 ultrafast CBR with filler so
 * the rate is exact, 640x360 so encoding it stays quick) and cached in $TMPDIR; nothing is
 * committed. The input is read once before the runs so every tool finds it in the page cache.
 * Estuary runs from dist/ (npm run build), as an installed `estuary` does.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ffmpegPath } from './lib/media.js';
import { commit, machine } from './lib/results.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TIME = '/usr/bin/time';
const KBPS = 2500;
const AUDIO_KBPS = 64;
const WALL_FACTOR = 1.5;
const RSS_LIMIT_MB = 150;

const minutes = Number(
  process.argv.find((a, i) => i > 1 && process.argv[i - 1] !== '--reps' && /^\d+(\.\d+)?$/.test(a)) ?? 30,
);

function makeSource(seconds: number): string {
  const dir = join(tmpdir(), 'estuary-bench-media');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `convert-h264-aac-${KBPS}k-${seconds}s.flv`);
  if (existsSync(file)) return file;
  const videoK = KBPS - AUDIO_KBPS;
  const tmp = `${file}.part.flv`;
  console.log(`[convert] making a ${seconds / 60}-minute ${KBPS} kbit/s source (once; cached as ${file})…`);
  const r = spawnSync(
    ffmpegPath(),
    [
      ...['-v', 'error', '-y'],
      ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100'],
      ...['-t', String(seconds)],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '50', '-keyint_min', '50'],
      ...['-b:v', `${videoK}k`, '-minrate', `${videoK}k`, '-maxrate', `${videoK}k`, '-bufsize', `${videoK}k`],
      ...['-x264-params', 'nal-hrd=cbr:force-cfr=1'],
      ...['-c:a', 'aac', '-b:a', `${AUDIO_KBPS}k`, '-ac', '2'],
      ...['-f', 'flv', tmp],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  if (r.status !== 0) throw new Error(`FFmpeg could not make the source: ${r.stderr?.toString()}`);
  renameSync(tmp, file);
  return file;
}

interface Timing {
  wallSeconds: number;
  /** user + sys, s: what a contended machine distorts least. */
  cpuSeconds: number;
  peakRssMB: number;
}

/** Runs a command under GNU time; its -o file gets "elapsed user sys maxrss_kB". */
function timed(cmd: string, args: string[]): Timing {
  const out = join(tmpdir(), `estuary-bench-time-${process.pid}.txt`);
  const r = spawnSync(TIME, ['-f', '%e %U %S %M', '-o', out, cmd, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr?.toString()}`);
  const [e, u, sy, m] = readFileSync(out, 'utf8').trim().split(/\s+/).map(Number);
  rmSync(out, { force: true });
  return { wallSeconds: e, cpuSeconds: u + sy, peakRssMB: Math.round((m * 1024) / 1e6) };
}

type Tool = 'ffmpeg' | 'ffmpeg +faststart' | 'estuary';

function ffmpegArgs(input: string, output: string, hls: boolean, faststart: boolean): string[] {
  const base = ['-v', 'error', '-y', '-i', input, '-c', 'copy'];
  if (!hls) return [...base, ...(faststart ? ['-movflags', '+faststart'] : []), output];
  const seg = output.replace(/\.m3u8$/, '_%05d.ts');
  return [
    ...base,
    '-f',
    'hls',
    '-hls_time',
    '2',
    '-hls_playlist_type',
    'vod',
    '-hls_segment_filename',
    seg,
    output,
  ];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** `--reps N` (default 3): each tool runs N times, interleaved with the others. */
function reps(): number {
  const i = process.argv.indexOf('--reps');
  const n = i > 0 ? Number(process.argv[i + 1]) : 3;
  if (!Number.isInteger(n) || n < 1) throw new Error('--reps needs a positive integer');
  return n;
}

const DIRECTIONS = [
  // Ours is fast start (moov first), so `-movflags +faststart` is FFmpeg's like-for-like; the
  // issue's target is against plain `-c copy`.
  { direction: 'FLV → MP4', name: 'out.mp4', tools: ['ffmpeg', 'ffmpeg +faststart', 'estuary'] as Tool[] },
  { direction: 'FLV → HLS', name: 'out.m3u8', tools: ['ffmpeg', 'estuary'] as Tool[] },
] as const;

function main(): void {
  if (!existsSync(TIME)) throw new Error(`${TIME} (GNU time) is needed: apt-get install time`);
  const bin = join(ROOT, 'bin/estuary.js');
  if (!existsSync(join(ROOT, 'dist/convert/convert.js')))
    throw new Error('run npm run build first (Estuary runs from dist/)');
  const input = makeSource(Math.round(minutes * 60));
  const n = reps();
  const loadBefore = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  const size = statSync(input).size;
  // Warm the page cache: every tool then reads the input from memory.
  readFileSync(input).length;
  const work = mkdtempSync(join(tmpdir(), 'estuary-bench-convert-'));
  const runs: { direction: string; tool: Tool; timing: Timing }[] = [];
  try {
    for (let rep = 1; rep <= n; rep++) {
      for (const { direction, name, tools } of DIRECTIONS) {
        const hls = name.endsWith('.m3u8');
        for (const tool of tools) {
          const dir = join(work, `${tool.replace(/\W+/g, '-')}-${hls ? 'hls' : 'mp4'}`);
          mkdirSync(dir);
          const output = join(dir, name);
          // The previous run's 565 MB of dirty pages would otherwise be written back to disk by
          // the kernel during this run, on the same two cores: each run starts with none.
          spawnSync('sync');
          const timing =
            tool === 'estuary'
              ? timed(process.execPath, [bin, 'convert', input, output])
              : timed(ffmpegPath(), ffmpegArgs(input, output, hls, tool === 'ffmpeg +faststart'));
          runs.push({ direction, tool, timing });
          console.log(
            `[convert] ${rep}/${n} ${direction} ${tool}: ${timing.wallSeconds} s wall, ${timing.cpuSeconds.toFixed(2)} s CPU, peak RSS ${timing.peakRssMB} MB (load ${loadavg()[0].toFixed(1)})`,
          );
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const loadAfter = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  const m = machine();
  console.log(
    `\n[convert] input ${(size / 1e6).toFixed(0)} MB, ${minutes} min at ${KBPS} kbit/s; ${n} interleaved runs each, medians; commit ${commit()}; load average ${loadBefore} before, ${loadAfter} after (shared machine); ${JSON.stringify(m)}`,
  );
  console.log(
    '| direction | tool | wall s | CPU s | peak RSS MB | wall vs ffmpeg -c copy | vs +faststart | targets |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  const med = (direction: string, tool: Tool) => {
    const ts = runs.filter((r) => r.direction === direction && r.tool === tool).map((r) => r.timing);
    if (ts.length === 0) return undefined;
    return {
      wallSeconds: median(ts.map((t) => t.wallSeconds)),
      cpuSeconds: median(ts.map((t) => t.cpuSeconds)),
      peakRssMB: Math.max(...ts.map((t) => t.peakRssMB)),
    };
  };
  for (const { direction, tools } of DIRECTIONS) {
    const ff = med(direction, 'ffmpeg')!;
    const fast = med(direction, 'ffmpeg +faststart');
    for (const tool of tools) {
      const t = med(direction, tool)!;
      const ratio = t.wallSeconds / Math.max(0.01, ff.wallSeconds);
      const vsFast = fast ? `${(t.wallSeconds / Math.max(0.01, fast.wallSeconds)).toFixed(2)}×` : '–';
      const targets =
        tool === 'estuary'
          ? `wall ≤ ${WALL_FACTOR}× ${ratio <= WALL_FACTOR ? '✓' : '✗'}, RSS < ${RSS_LIMIT_MB} MB ${t.peakRssMB < RSS_LIMIT_MB ? '✓' : '✗'}`
          : '';
      console.log(
        `| ${direction} | ${tool} | ${t.wallSeconds.toFixed(2)} | ${t.cpuSeconds.toFixed(2)} | ${t.peakRssMB} | ${ratio.toFixed(2)}× | ${vsFast} | ${targets} |`,
      );
    }
  }
}

main();
