import assert from 'node:assert/strict';
import { run } from './run.js';

export interface ProbeStream {
  index: number;
  codec_type: 'video' | 'audio' | 'data';
  codec_name: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
  nb_read_packets?: string;
  duration?: string;
}

export interface ProbeResult {
  streams: ProbeStream[];
  format: { duration?: string; format_name: string };
}

/** ffprobe -count_packets as JSON; fails the test with ffprobe's message when it cannot read the input. */
export async function probe(ffprobe: string, input: string): Promise<ProbeResult> {
  const r = await run(ffprobe, [
    '-v',
    'error',
    '-count_packets',
    '-show_streams',
    '-show_format',
    '-of',
    'json',
    input,
  ]);
  assert.equal(r.code, 0, `ffprobe failed on ${input}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ProbeResult;
}

export function streamOf(p: ProbeResult, type: 'video' | 'audio'): ProbeStream | undefined {
  return p.streams.find((s) => s.codec_type === type);
}

/** Per-stream earliest and latest presentation times (s), packet count and whether the first packet is a keyframe. */
export async function packetTimes(
  ffprobe: string,
  input: string,
): Promise<
  Record<'video' | 'audio', { count: number; first: number; last: number; keyframeFirst: boolean }>
> {
  const r = await run(ffprobe, [
    '-v',
    'error',
    '-show_entries',
    'packet=codec_type,pts_time,dts_time,flags',
    '-of',
    'json',
    input,
  ]);
  assert.equal(r.code, 0, `ffprobe failed on ${input}: ${r.stderr}`);
  const packets = (
    JSON.parse(r.stdout) as {
      packets: { codec_type: string; dts_time?: string; pts_time?: string; flags: string }[];
    }
  ).packets;
  const out = {
    video: { count: 0, first: Number.NaN, last: Number.NaN, keyframeFirst: false },
    audio: { count: 0, first: Number.NaN, last: Number.NaN, keyframeFirst: false },
  };
  for (const p of packets) {
    if (p.codec_type !== 'video' && p.codec_type !== 'audio') continue;
    const s = out[p.codec_type];
    // Presentation times: with B-frames the first decoded frame is not the first shown.
    const t = Number(p.pts_time ?? p.dts_time);
    if (s.count === 0) {
      s.first = t;
      s.last = t;
      s.keyframeFirst = p.flags.includes('K');
    }
    s.first = Math.min(s.first, t);
    s.last = Math.max(s.last, t);
    s.count++;
  }
  return out;
}

/** `ffmpeg -v error` decodes the whole input and must print nothing. */
export async function assertDecodesClean(
  ffmpeg: string,
  input: string,
  inputArgs: string[] = [],
): Promise<void> {
  const r = await run(ffmpeg, ['-v', 'error', ...inputArgs, '-i', input, '-f', 'null', '-']);
  assert.equal(r.code, 0, `ffmpeg failed on ${input}: ${r.stderr}`);
  assert.equal(r.stderr.trim(), '', `ffmpeg reported errors in ${input}: ${r.stderr}`);
}
