/**
 * The complete MP4 interleaves its tracks in runs of at most 0.5 s of media (issue 11.6), so a
 * player reading it front to back over HTTP with a bounded queue per track never starves:
 * ffprobe's packet positions show the layout, FFmpeg decodes it clean, and GStreamer's qtdemux
 * plays it from the web port through souphttpsrc into two queues of the default size (1 s) and
 * clock-synced sinks, the pipeline: with 2 s runs it never gets past preroll.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixture, publishArgs } from '../helpers/media.js';
import { startOrigin, waitEnded } from '../helpers/origin.js';
import { assertDecodesClean } from '../helpers/probe.js';
import { run } from '../helpers/run.js';
import { requireTool } from '../helpers/tools.js';

const GST_LAUNCH = '/usr/bin/gst-launch-1.0';

interface Packet {
  stream: number;
  pos: number;
  dts: number;
  duration: number;
}

async function packets(ffprobe: string, file: string): Promise<Packet[]> {
  const r = await run(ffprobe, [
    ...['-v', 'error', '-show_entries', 'packet=stream_index,pos,dts_time,duration_time'],
    ...['-of', 'json', file],
  ]);
  assert.equal(r.code, 0, r.stderr);
  const list = (JSON.parse(r.stdout) as { packets: Record<string, string | number>[] }).packets;
  return list.map((p) => ({
    stream: Number(p.stream_index),
    pos: Number(p.pos),
    dts: Number(p.dts_time),
    duration: Number(p.duration_time),
  }));
}

test('the complete MP4 interleaves in runs of at most 0.5 s and plays over HTTP in GStreamer', {
  timeout: 60_000,
}, async (t) => {
  const ffmpeg = requireTool(t, 'ffmpeg');
  const ffprobe = requireTool(t, 'ffprobe');
  if (!ffmpeg || !ffprobe) return;
  const o = await startOrigin({ record: { flv: false, hls: false, mp4: true } });
  t.after(() => o.stop());
  const path = 'live/il';
  // 3 s: the GStreamer pipeline plays in real time.
  const source = fixture('h264-aac-3s.flv');
  const pub = await run(ffmpeg, publishArgs(source, o.rtmpUrl(path)));
  assert.equal(pub.code, 0, pub.stderr);
  await waitEnded(o.origin, path);
  const merge = join(o.dataDir, 'mp4', path, 'output_merge');
  const full = readdirSync(merge).find((f) => f.endsWith('_full.mp4'))!;
  const file = join(merge, full);
  await assertDecodesClean(ffmpeg, file);

  // Runs: consecutive packets of one stream in file order.
  const byPos = (await packets(ffprobe, file)).sort((a, b) => a.pos - b.pos);
  const runs: Packet[][] = [];
  for (const p of byPos) {
    const cur = runs[runs.length - 1];
    if (cur && cur[0].stream === p.stream) cur.push(p);
    else runs.push([p]);
  }
  for (const r of runs) {
    const last = r[r.length - 1];
    const span = last.dts + last.duration - r[0].dts;
    assert.ok(span <= 0.5 + 1e-3, `a run of stream ${r[0].stream} spans ${span.toFixed(3)} s`);
  }
  // ~2 runs a second per track (FFmpeg's own files look alike), not one per frame.
  assert.ok(runs.length >= 10 && runs.length <= 16, `${runs.length} runs in 3 s`);

  if (!existsSync(GST_LAUNCH)) {
    if (process.env.CI === 'true') throw new Error('gst-launch-1.0 is not installed');
    t.diagnostic('gst-launch-1.0 is not installed: the GStreamer check is skipped');
    return;
  }
  const url = `http://127.0.0.1:${o.ports.web}/mp4/${path}/output_merge/${full}`;
  // The pipeline of the issue. basesink's debug log says "rendering object" once per buffer.
  const debugLog = join(o.dataDir, 'gst-debug.log');
  const gst = await run(
    '/usr/bin/env',
    [
      ...['GST_DEBUG=basesink:5', 'GST_DEBUG_NO_COLOR=1', `GST_DEBUG_FILE=${debugLog}`, GST_LAUNCH],
      ...['souphttpsrc', `location=${url}`, '!', 'qtdemux', 'name=d'],
      ...['d.video_0', '!', 'queue', '!', 'fakesink', 'name=v'],
      ...['d.audio_0', '!', 'queue', '!', 'fakesink', 'name=a'],
    ],
    20_000,
  );
  assert.equal(gst.code, 0, `gst-launch: ${gst.stdout.slice(-1000)}`);
  const log = readFileSync(debugLog, 'utf8').split('\n');
  const rendered = (sink: string) => log.filter((l) => l.includes(`<${sink}> rendering object`)).length;
  const src = await packets(ffprobe, source);
  assert.equal(rendered('v'), src.filter((p) => p.stream === 0).length, 'every video frame reached its sink');
  assert.equal(rendered('a'), src.filter((p) => p.stream === 1).length, 'every audio frame reached its sink');
});
