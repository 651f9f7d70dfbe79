/**
 * Back-to-back sessions of one name (issue 9.4): a publish ends and the next one of the same name
 * starts at once, while the first session's recorders are still finishing (the MP4 merge of 30 s
 * of media takes a while). The new session must not move the first one's folders from under it:
 * both end complete (HLS ENDLIST, a complete MP4 with every frame its segments hold, no
 * `.recording` marker), the first one in `{stream}.YYYYMMDD_HHMMSS/`, and FFmpeg plays both.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fixture } from '../helpers/media.js';
import { startOrigin, waitEnded } from '../helpers/origin.js';
import { assertDecodesClean, probe, streamOf } from '../helpers/probe.js';
import { run } from '../helpers/run.js';
import { requireTool } from '../helpers/tools.js';

const scratch = mkdtempSync(join(tmpdir(), 'estuary-sessions-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Video frames of init.mp4 + seg*.m4s in a merged output, as ffprobe counts them. */
async function segmentFrames(ffprobe: string, mergeDir: string): Promise<number> {
  const segs = readdirSync(mergeDir)
    .filter((f) => /^seg_.*\d{6}\.m4s$/.test(f))
    .sort();
  const cat = join(scratch, `cat-${Date.now()}.mp4`);
  writeFileSync(cat, Buffer.concat(['init.mp4', ...segs].map((f) => readFileSync(join(mergeDir, f)))));
  return Number(streamOf(await probe(ffprobe, cat), 'video')?.nb_read_packets);
}

async function assertComplete(ffmpeg: string, ffprobe: string, hls: string, mp4: string, minFrames: number) {
  assert.ok(!existsSync(join(hls, '.recording')), `${hls}: marker left behind`);
  assert.ok(!existsSync(join(mp4, '.recording')), `${mp4}: marker left behind`);
  assert.match(readFileSync(join(hls, 'index.m3u8'), 'utf8'), /#EXT-X-ENDLIST\n$/, hls);
  await assertDecodesClean(ffmpeg, join(hls, 'index.m3u8'));
  const merge = join(mp4, 'output_merge');
  assert.match(readFileSync(join(merge, 'index.m3u8'), 'utf8'), /#EXT-X-ENDLIST\n$/, merge);
  const full = readdirSync(merge).find((f) => f.endsWith('_full.mp4'));
  assert.ok(full, `${merge}: no complete MP4 in ${readdirSync(merge).join(', ')}`);
  await assertDecodesClean(ffmpeg, join(merge, full));
  const frames = Number(streamOf(await probe(ffprobe, join(merge, full)), 'video')?.nb_read_packets);
  assert.ok(frames >= minFrames, `${merge}/${full}: ${frames} video frames`);
  assert.equal(frames, await segmentFrames(ffprobe, merge), `${full} holds every frame of the segments`);
}

test('a session that starts while the previous one of its name is finishing: both end complete', {
  timeout: 60_000,
}, async (t) => {
  const ffmpeg = requireTool(t, 'ffmpeg');
  const ffprobe = requireTool(t, 'ffprobe');
  if (!ffmpeg || !ffprobe) return;
  const o = await startOrigin({ record: { flv: true, hls: true, mp4: true } });
  t.after(() => o.stop());
  const path = 'live/again';
  const second = readFileSync(fixture('h264-aac-3s.flv'));
  let posted: Promise<Response> | undefined;
  // The next publish starts the moment the first one ends (as a reconnecting encoder does).
  o.origin.hub.addHooks({
    onUnpublish: () => {
      posted ??= fetch(`http://127.0.0.1:${o.ports.http}/${path}`, { method: 'POST', body: second });
    },
  });
  // 30 s of media, sent as fast as FFmpeg reads it: its MP4 merge takes a while.
  const first = await run(ffmpeg, [
    ...['-v', 'error', '-stream_loop', '2', '-i', fixture('h264-aac-bframes-10s.flv')],
    ...['-c', 'copy', '-f', 'flv', o.rtmpUrl(path)],
  ]);
  assert.equal(first.code, 0, first.stderr);
  await waitEnded(o.origin, path);
  assert.ok(posted, 'the second publish was sent');
  const res = await posted;
  assert.equal(res.status, 200, await res.text());
  await waitEnded(o.origin, path);

  const hlsRoot = join(o.dataDir, 'hls', 'live');
  const mp4Root = join(o.dataDir, 'mp4', 'live');
  const earlier = readdirSync(hlsRoot).filter((d) => /^again\.\d{8}_\d{6}(-\d+)?$/.test(d));
  assert.equal(earlier.length, 1, `one earlier HLS session folder: ${readdirSync(hlsRoot).join(', ')}`);
  const earlierMp4 = readdirSync(mp4Root).filter((d) => /^again\.\d{8}_\d{6}(-\d+)?$/.test(d));
  assert.deepEqual(earlierMp4, earlier, 'the MP4 folder of the first session is kept under the same name');
  // First session: 30 s at 25 fps; second: the 3 s fixture.
  await assertComplete(ffmpeg, ffprobe, join(hlsRoot, earlier[0]!), join(mp4Root, earlier[0]!), 700);
  await assertComplete(ffmpeg, ffprobe, join(hlsRoot, 'again'), join(mp4Root, 'again'), 60);
  const flvs = readdirSync(join(o.dataDir, 'flv', path));
  assert.equal(flvs.length, 2, `two FLV files: ${flvs.join(', ')}`);
});
