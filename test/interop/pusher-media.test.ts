/**
 * The pusher against a running origin: the 10 s MP4 (H.264 with B-frames + AAC) and FLV files
 * over HTTP-FLV and RTMP, recorded back by FFmpeg (an RTMP player that connects before the push
 * and waits), judged by ffprobe; and the pacing at --speed 1.0 and 4.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pushFile } from '../../src/pusher/pusher.js';
import { fixture as media, saveAsFlvArgs } from '../helpers/media.js';
import { startOrigin, type TestOrigin } from '../helpers/origin.js';
import { packetTimes, probe, streamOf } from '../helpers/probe.js';
import { start } from '../helpers/run.js';
import { requireTool } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const MP4_10S = media('h264-aac-bframes-10s.mp4');
const FLV_10S = media('h264-aac-bframes-10s.flv');
const FLV_3S = media('h264-aac-3s.flv');
const tmp = mkdtempSync(join(tmpdir(), 'estuary-pusher-'));

interface Case {
  name: string;
  /** The file, or how to make it from the 10 s MP4 with FFmpeg (remuxed, not re-encoded). */
  file: string | { remux: string[] };
  scheme: 'http' | 'rtmp';
  speed: number;
  /** Expected wall time of the push, s (duration / speed), and the tolerance. */
  seconds: number;
  tolerance: number;
}

const CASES: Case[] = [
  { name: 'mp4-http-1x', file: MP4_10S, scheme: 'http', speed: 1, seconds: 10, tolerance: 0.5 },
  // "About" duration / speed (issue 4): the origin shares this process's event loop and the
  // suite runs two files at once on 2 cores, so allow a little more than at 1x.
  { name: 'mp4-rtmp-4x', file: MP4_10S, scheme: 'rtmp', speed: 4, seconds: 2.5, tolerance: 0.6 },
  { name: 'flv-rtmp-4x', file: FLV_10S, scheme: 'rtmp', speed: 4, seconds: 2.5, tolerance: 0.6 },
  { name: 'flv-http-2x', file: FLV_3S, scheme: 'http', speed: 2, seconds: 1.5, tolerance: 0.6 },
  // FFmpeg writes the moov after the mdat unless told -movflags faststart.
  { name: 'mp4-moov-last', file: { remux: [] }, scheme: 'rtmp', speed: 8, seconds: 0.4, tolerance: 0.4 },
  {
    name: 'mp4-fragmented',
    file: { remux: ['-movflags', 'frag_keyframe+empty_moov+default_base_moof'] },
    scheme: 'http',
    speed: 8,
    seconds: 0.4,
    tolerance: 0.4,
  },
];

async function fileOf(c: Case, ffmpeg: string): Promise<string> {
  if (typeof c.file === 'string') return c.file;
  const out = join(tmp, `${c.name}.mp4`);
  const args = [
    '-v',
    'error',
    '-i',
    MP4_10S,
    '-t',
    '3',
    '-c',
    'copy',
    ...c.file.remux,
    '-f',
    'mp4',
    '-y',
    out,
  ];
  const r = await start(ffmpeg, args).done;
  assert.equal(r.code, 0, r.stderr);
  return out;
}

describe('pusher: files to a live origin', { concurrency: true, timeout: 60_000 }, () => {
  let o: TestOrigin;
  before(async () => {
    // Recorders are not what this tests; they would only load the shared event loop.
    o = await startOrigin({ record: { flv: false, hls: false, mp4: false } });
  });
  after(async () => {
    await o?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  for (const c of CASES) {
    test(`${c.name} over ${c.scheme} at --speed ${c.speed}`, async (t) => {
      const ffmpeg = requireTool(t, 'ffmpeg');
      const ffprobe = requireTool(t, 'ffprobe');
      if (!ffmpeg || !ffprobe) return;
      const file = await fileOf(c, ffmpeg);
      const path = `live/${c.name}`;
      const out = join(tmp, `${c.name}.flv`);
      const player = start(ffmpeg, saveAsFlvArgs(o.rtmpUrl(path), out));
      // Let the player reach play (it then waits for the publish, as with nginx-rtmp).
      await until(
        'the player to wait for the stream',
        () => (o.origin.hub.get(path)?.subscriberCount ?? 0) > 0,
      );
      const url = c.scheme === 'rtmp' ? o.rtmpUrl(path) : `http://127.0.0.1:${o.ports.http}/${path}`;
      const t0 = performance.now();
      const result = await pushFile({ file, url, speed: c.speed, reconnect: false });
      const seconds = (performance.now() - t0) / 1000;
      const played = await player.done;
      assert.equal(played.code, 0, `player: ${played.stderr}`);
      assert.equal(result.interrupted, false);
      assert.equal(result.reconnects, 0);
      assert.ok(
        Math.abs(seconds - c.seconds) <= c.tolerance,
        `push took ${seconds.toFixed(2)} s, expected ${c.seconds} ± ${c.tolerance}`,
      );

      const src = await probe(ffprobe, file);
      const got = await probe(ffprobe, out);
      for (const kind of ['video', 'audio'] as const) {
        const a = streamOf(src, kind)!;
        const b = streamOf(got, kind);
        assert.ok(b, `no ${kind} stream recorded`);
        assert.equal(b.codec_name, a.codec_name, `${kind} codec`);
        assert.equal(b.nb_read_packets, a.nb_read_packets, `${kind} packet count`);
      }
      const v = streamOf(got, 'video')!;
      assert.equal(v.width, streamOf(src, 'video')!.width);
      assert.equal(v.height, streamOf(src, 'video')!.height);
      const srcT = await packetTimes(ffprobe, file);
      const gotT = await packetTimes(ffprobe, out);
      const srcDur = srcT.video.last - srcT.video.first;
      const gotDur = gotT.video.last - gotT.video.first;
      assert.ok(Math.abs(gotDur - srcDur) <= 0.1, `video duration ${gotDur} s vs ${srcDur} s in the file`);
      assert.ok(gotT.video.keyframeFirst, 'the first video packet is not a keyframe');
      const decoded = await start(ffmpeg, ['-v', 'error', '-i', out, '-f', 'null', '-']).done;
      assert.equal(decoded.stderr.trim(), '', `decoding the recording: ${decoded.stderr}`);
    });
  }
});
