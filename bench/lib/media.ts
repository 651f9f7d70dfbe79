import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tools } from '../../test/helpers/tools.js';

/** 25 fps with a keyframe every 50 frames (2 s): the GOP the publisher uses. */
const FPS = 25;
const GOP = 50;

export interface SourceSpec {
  /** Total bit rate, kbit/s (video gets this minus the audio). */
  kbps: number;
  seconds: number;
}

export function ffmpegPath(): string {
  if (!tools.ffmpeg) throw new Error('FFmpeg not found (install Debian ffmpeg or npm ci)');
  return tools.ffmpeg;
}

/** Picture size that makes the bit rate plausible (x264 pads the rest with filler, CBR). */
function sizeFor(kbps: number): string {
  if (kbps <= 500) return '320x180';
  if (kbps <= 1500) return '640x360';
  return '1280x720';
}

/**
 * A looping source file made by FFmpeg from lavfi test sources: H.264 (x264 ultrafast,
 * zerolatency, CBR with filler so the rate is exact) + AAC, in FLV. Cached in the temp folder
 * by its parameters, so a run pays for encoding once; the command is the committed recipe.
 */
export function makeSource(spec: SourceSpec): string {
  const dir = join(tmpdir(), 'estuary-bench-media');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `testsrc-${spec.kbps}k-${spec.seconds}s.flv`);
  if (existsSync(file)) return file;
  const audioK = spec.kbps >= 1000 ? 64 : 32;
  const videoK = spec.kbps - audioK;
  const tmp = `${file}.part.flv`;
  const args = [
    ...['-v', 'error', '-y'],
    ...['-f', 'lavfi', '-i', `testsrc2=size=${sizeFor(spec.kbps)}:rate=${FPS}`],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100'],
    ...['-t', String(spec.seconds)],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p'],
    ...['-b:v', `${videoK}k`, '-minrate', `${videoK}k`, '-maxrate', `${videoK}k`, '-bufsize', `${videoK}k`],
    ...['-x264-params', 'nal-hrd=cbr:force-cfr=1', '-g', String(GOP), '-keyint_min', String(GOP)],
    ...['-c:a', 'aac', '-b:a', `${audioK}k`, '-ac', '2'],
    ...['-f', 'flv', tmp],
  ];
  const r = spawnSync(ffmpegPath(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`FFmpeg could not make the source: ${r.stderr?.toString()}`);
  renameSync(tmp, file);
  return file;
}
