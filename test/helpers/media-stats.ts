/**
 * What FFmpeg sees in a media file, per stream kind: packet count, first and last presentation
 * time, and whether decoding it prints any error. Used to compare a conversion's output with its
 * input (ffprobe reads FLV, MP4, MPEG-TS and HLS playlists alike).
 */
import { execFile } from 'node:child_process';
import { open } from 'node:fs/promises';

export interface KindStats {
  packets: number;
  /** Smallest pts, s. */
  start: number;
  /** Largest pts + that packet's duration, s. */
  end: number;
}

export type MediaStats = Partial<Record<'video' | 'audio', KindStats>>;

function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve({ stdout, stderr });
    });
  });
}

interface ProbeJson {
  streams?: { index: number; codec_type: string }[];
  packets?: { stream_index: number; pts_time?: string; duration_time?: string }[];
}

export async function mediaStats(ffprobe: string, file: string): Promise<MediaStats> {
  const { stdout } = await run(ffprobe, [
    ...['-v', 'error', '-show_entries', 'stream=index,codec_type:packet=stream_index,pts_time,duration_time'],
    ...['-of', 'json', file],
  ]);
  const j = JSON.parse(stdout) as ProbeJson;
  const kindOf = new Map((j.streams ?? []).map((s) => [s.index, s.codec_type]));
  const out: MediaStats = {};
  for (const p of j.packets ?? []) {
    const kind = kindOf.get(p.stream_index);
    if ((kind !== 'video' && kind !== 'audio') || p.pts_time === undefined) continue;
    const pts = Number(p.pts_time);
    const dur = p.duration_time === undefined ? 0 : Number(p.duration_time);
    out[kind] ??= { packets: 0, start: Number.POSITIVE_INFINITY, end: 0 };
    const s = out[kind];
    s.packets++;
    s.start = Math.min(s.start, pts);
    s.end = Math.max(s.end, pts + (Number.isFinite(dur) ? dur : 0));
  }
  return out;
}

/** What `ffmpeg -v error -i FILE -f null -` prints: empty when every frame decodes. */
export async function decodeErrors(ffmpeg: string, file: string): Promise<string> {
  const { stderr } = await run(ffmpeg, ['-v', 'error', '-i', file, '-f', 'null', '-']);
  return stderr.trim();
}

/** The top-level box types of an ISO BMFF file, in order (headers only). */
export async function topLevelBoxes(file: string): Promise<string[]> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const types: string[] = [];
    const head = Buffer.alloc(16);
    for (let off = 0; off + 8 <= size; ) {
      await fh.read(head, 0, 16, off);
      let boxSize = head.readUInt32BE(0);
      types.push(head.toString('latin1', 4, 8));
      if (boxSize === 1) boxSize = Number(head.readBigUInt64BE(8));
      if (boxSize === 0) break;
      off += boxSize;
    }
    return types;
  } finally {
    await fh.close();
  }
}
