/**
 * `npm run bench -- convert [MINUTES]`: `estuary convert` beside `ffmpeg -i IN -c copy OUT` on
 * a long recording (issue 17: a 30-minute 2.5 Mbit/s H.264/AAC FLV), FLV → MP4 and FLV → HLS,
 * each tool's wall time and peak RSS measured by /usr/bin/time (GNU time: %e elapsed, %M maximum
 * resident set, from wait4's rusage, so it covers the whole process tree's largest member).
 * Targets: wall time within 1.5× FFmpeg's, peak RSS under 150 MB.
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

const minutes = Number(process.argv.find((a, i) => i > 1 && /^\d+(\.\d+)?$/.test(a)) ?? 30);

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
  peakRssMB: number;
}

/** Runs a command under GNU time; its -o file gets "elapsed maxrss_kB". */
function timed(cmd: string, args: string[]): Timing {
  const out = join(tmpdir(), `estuary-bench-time-${process.pid}.txt`);
  const r = spawnSync(TIME, ['-f', '%e %M', '-o', out, cmd, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr?.toString()}`);
  const [e, m] = readFileSync(out, 'utf8').trim().split(/\s+/).map(Number);
  rmSync(out, { force: true });
  return { wallSeconds: e, peakRssMB: Math.round((m * 1024) / 1e6) };
}

function ffmpegArgs(input: string, output: string, hls: boolean): string[] {
  const base = ['-v', 'error', '-y', '-i', input, '-c', 'copy'];
  if (!hls) return [...base, output];
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

function main(): void {
  if (!existsSync(TIME)) throw new Error(`${TIME} (GNU time) is needed: apt-get install time`);
  const bin = join(ROOT, 'bin/estuary.js');
  if (!existsSync(join(ROOT, 'dist/convert/convert.js')))
    throw new Error('run npm run build first (Estuary runs from dist/)');
  const input = makeSource(Math.round(minutes * 60));
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  const size = statSync(input).size;
  // Warm the page cache: every tool then reads the input from memory.
  readFileSync(input).length;
  const work = mkdtempSync(join(tmpdir(), 'estuary-bench-convert-'));
  const rows: { direction: string; tool: string; timing: Timing }[] = [];
  try {
    for (const [direction, name] of [
      ['FLV → MP4', 'out.mp4'],
      ['FLV → HLS', 'out.m3u8'],
    ] as const) {
      const hls = name.endsWith('.m3u8');
      for (const tool of ['ffmpeg', 'estuary'] as const) {
        const dir = join(work, `${tool}-${hls ? 'hls' : 'mp4'}`);
        mkdirSync(dir);
        const output = join(dir, name);
        const timing =
          tool === 'ffmpeg'
            ? timed(ffmpegPath(), ffmpegArgs(input, output, hls))
            : timed(process.execPath, [bin, 'convert', input, output]);
        rows.push({ direction, tool, timing });
        console.log(
          `[convert] ${direction} ${tool}: ${timing.wallSeconds} s, peak RSS ${timing.peakRssMB} MB`,
        );
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const m = machine();
  console.log(
    `\n[convert] input ${(size / 1e6).toFixed(0)} MB, ${minutes} min at ${KBPS} kbit/s; commit ${commit()}; load average before the runs ${load} (shared machine); ${JSON.stringify(m)}`,
  );
  console.log('| direction | tool | wall s | peak RSS MB | vs FFmpeg | targets |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    const ff = rows.find((x) => x.direction === r.direction && x.tool === 'ffmpeg')!.timing;
    const ratio = r.timing.wallSeconds / Math.max(0.01, ff.wallSeconds);
    const targets =
      r.tool === 'estuary'
        ? `wall ≤ ${WALL_FACTOR}× ${ratio <= WALL_FACTOR ? '✓' : '✗'}, RSS < ${RSS_LIMIT_MB} MB ${r.timing.peakRssMB < RSS_LIMIT_MB ? '✓' : '✗'}`
        : '';
    console.log(
      `| ${r.direction} | ${r.tool} | ${r.timing.wallSeconds.toFixed(2)} | ${r.timing.peakRssMB} | ${ratio.toFixed(2)}× | ${targets} |`,
    );
  }
}

main();
