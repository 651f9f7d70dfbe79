/**
 * Our MP4 demuxer against ffprobe on the committed fixtures: packet counts per stream, and
 * pts/dts of the first 50 packets of each stream within 1 ms. The file is read in pieces through
 * a FileHandle, as the pusher does.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { Mp4Demuxer, type RandomAccessReader } from '../../src/formats/mp4/demuxer.js';
import type { MediaFrame } from '../../src/media/frame.js';
import { requireTool } from '../helpers/tools.js';

const MEDIA = join(import.meta.dirname, '..', 'fixtures', 'media');

function fixture(t: TestContext, name: string): string | undefined {
  const path = join(MEDIA, name);
  if (existsSync(path)) return path;
  if (process.env.CI === 'true') throw new Error(`fixture ${name} missing: run npm run fixtures`);
  t.skip(`fixture ${name} missing: run npm run fixtures`);
  return undefined;
}

async function demuxFile(path: string): Promise<{ frames: MediaFrame[]; demuxer: Mp4Demuxer }> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const reader: RandomAccessReader = {
      size,
      read: async (offset, length) => {
        const buf = Buffer.alloc(length);
        const { bytesRead } = await fh.read(buf, 0, length, offset);
        return buf.subarray(0, bytesRead);
      },
    };
    // A small read-ahead so the test exercises many windowed reads.
    const demuxer = await Mp4Demuxer.open(reader, { readAhead: 4096 });
    const frames: MediaFrame[] = [];
    for await (const f of demuxer.frames()) frames.push(f);
    return { frames, demuxer };
  } finally {
    await fh.close();
  }
}

interface ProbePacket {
  codec_type: 'video' | 'audio';
  pts: number;
  dts: number;
}

function probePackets(ffprobe: string, path: string): ProbePacket[] {
  const json = execFileSync(
    ffprobe,
    [
      '-v',
      'error',
      '-show_streams',
      '-show_packets',
      '-show_entries',
      'stream=index,codec_type:packet=stream_index,pts_time,dts_time',
      '-of',
      'json',
      path,
    ],
    { encoding: 'utf8' },
  );
  const parsed = JSON.parse(json) as {
    streams: { index: number; codec_type: 'video' | 'audio' }[];
    packets: { stream_index: number; pts_time: string; dts_time: string }[];
  };
  const kind = new Map(parsed.streams.map((s) => [s.index, s.codec_type]));
  return parsed.packets.map((p) => ({
    codec_type: kind.get(p.stream_index)!,
    pts: Number(p.pts_time) * 1000,
    dts: Number(p.dts_time) * 1000,
  }));
}

for (const name of ['h264-aac-bframes-10s.mp4', 'hevc-aac-3s.mp4']) {
  test(`mp4 demuxer matches ffprobe on ${name}`, async (t) => {
    const ffprobe = requireTool(t, 'ffprobe');
    const path = fixture(t, name);
    if (!ffprobe || !path) return;
    const { frames, demuxer } = await demuxFile(path);
    const probe = probePackets(ffprobe, path);
    for (const kind of ['video', 'audio'] as const) {
      const ours = frames.filter((f) => f.track.kind === kind);
      const theirs = probe.filter((p) => p.codec_type === kind);
      assert.equal(ours.length, theirs.length, `${kind} packet count`);
      for (let i = 0; i < Math.min(50, ours.length); i++) {
        assert.ok(
          Math.abs(ours[i].pts - theirs[i].pts) <= 1,
          `${kind} #${i} pts ${ours[i].pts} vs ${theirs[i].pts}`,
        );
        assert.ok(
          Math.abs(ours[i].dts - theirs[i].dts) <= 1,
          `${kind} #${i} dts ${ours[i].dts} vs ${theirs[i].dts}`,
        );
      }
    }
    assert.equal(demuxer.tracks.length, 2);
    // Frames come out in DTS order across tracks.
    for (let i = 1; i < frames.length; i++) assert.ok(frames[i].dts >= frames[i - 1].dts);
  });
}
