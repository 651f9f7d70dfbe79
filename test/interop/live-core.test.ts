/**
 * The live core against real peers: FFmpeg publishes over RTMP and HTTP-FLV; FFmpeg, a
 * WebSocket client and rtmpdump (librtmp) play; ffprobe judges what they received.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FlvTagReader } from '../../src/formats/flv/tag-reader.js';
import { captureWs, httpGetStream } from '../helpers/flv-capture.js';
import { publishArgs, saveAsFlvArgs } from '../helpers/media.js';
import { startOrigin, type TestOrigin, waitLive } from '../helpers/origin.js';
import { packetTimes, probe, streamOf } from '../helpers/probe.js';
import { run, start } from '../helpers/run.js';
import { requireTool, tools } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const FIXTURE_3S = new URL('../fixtures/media/h264-aac-3s.flv', import.meta.url).pathname;
const FIXTURE_10S = new URL('../fixtures/media/h264-aac-bframes-10s.flv', import.meta.url).pathname;
const FIXTURE_MP3 = new URL('../fixtures/media/mp3-3s.flv', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'estuary-live-'));

/** What every player must have received: the published codecs, size, frame count and duration. */
async function assertSameMedia(ffprobe: string, out: string, label: string): Promise<void> {
  const src = await probe(ffprobe, FIXTURE_3S);
  const got = await probe(ffprobe, out);
  for (const kind of ['video', 'audio'] as const) {
    const a = streamOf(src, kind)!;
    const b = streamOf(got, kind);
    assert.ok(b, `${label}: no ${kind} stream in ${out}`);
    assert.equal(b.codec_name, a.codec_name, `${label}: ${kind} codec`);
    assert.equal(b.nb_read_packets, a.nb_read_packets, `${label}: ${kind} packet count`);
  }
  assert.equal(streamOf(got, 'video')!.width, streamOf(src, 'video')!.width, `${label}: width`);
  assert.equal(streamOf(got, 'video')!.height, streamOf(src, 'video')!.height, `${label}: height`);
  const srcT = await packetTimes(ffprobe, FIXTURE_3S);
  const gotT = await packetTimes(ffprobe, out);
  const srcDur = srcT.video.last - srcT.video.first;
  const gotDur = gotT.video.last - gotT.video.first;
  assert.ok(Math.abs(gotDur - srcDur) <= 0.5, `${label}: duration ${gotDur} vs published ${srcDur}`);
  assert.ok(gotT.video.keyframeFirst, `${label}: first video packet is not a keyframe`);
}

describe('live core interop', { timeout: 120_000 }, () => {
  let o: TestOrigin;
  before(async () => {
    o = await startOrigin();
  });
  after(async () => {
    await o?.stop();
  });

  test('RTMP publish → RTMP (waiting before publish), HTTP-FLV and WS-FLV play', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    const ffprobe = requireTool(t, 'ffprobe');
    if (!ffmpeg || !ffprobe) return;
    const path = 'live/rtmp1';
    const outRtmp = join(tmp, 'rtmp1-rtmp.flv');
    const outHttp = join(tmp, 'rtmp1-http.flv');
    const outWs = join(tmp, 'rtmp1-ws.flv');
    // RTMP play before the publish starts: the player waits, as with nginx-rtmp.
    const rtmpPlayer = start(ffmpeg, saveAsFlvArgs(o.rtmpUrl(path), outRtmp), 30_000);
    await until(
      'the RTMP player to wait for the stream',
      () => (o.origin.hub.get(path)?.subscriberCount ?? 0) > 0,
    );
    const publisher = start(ffmpeg, publishArgs(FIXTURE_3S, o.rtmpUrl(path), true), 30_000);
    await waitLive(o.origin, path);
    const httpPlayer = start(ffmpeg, saveAsFlvArgs(o.flvUrl(path), outHttp), 30_000);
    const ws = captureWs(o.wsUrl(path), outWs);
    const pub = await publisher.done;
    assert.equal(pub.code, 0, `publisher failed: ${pub.stderr}`);
    const [r1, r2] = await Promise.all([rtmpPlayer.done, httpPlayer.done]);
    assert.equal(r1.code, 0, `RTMP player: ${r1.stderr}`);
    assert.equal(r2.code, 0, `HTTP-FLV player: ${r2.stderr}`);
    assert.ok((await ws) > 10_000, 'WS-FLV received too little');
    await assertSameMedia(ffprobe, outRtmp, 'RTMP play');
    await assertSameMedia(ffprobe, outHttp, 'HTTP-FLV play');
    await assertSameMedia(ffprobe, outWs, 'WS-FLV play');
  });

  test('HTTP-FLV publish (FFmpeg chunked POST) → RTMP and HTTP-FLV play', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    const ffprobe = requireTool(t, 'ffprobe');
    if (!ffmpeg || !ffprobe) return;
    const path = 'live/http1';
    const outRtmp = join(tmp, 'http1-rtmp.flv');
    const outHttp = join(tmp, 'http1-http.flv');
    const rtmpPlayer = start(ffmpeg, saveAsFlvArgs(o.rtmpUrl(path), outRtmp), 30_000);
    await until(
      'the RTMP player to wait for the stream',
      () => (o.origin.hub.get(path)?.subscriberCount ?? 0) > 0,
    );
    const publisher = start(
      ffmpeg,
      publishArgs(FIXTURE_3S, `http://127.0.0.1:${o.ports.http}/${path}`, true),
      30_000,
    );
    await waitLive(o.origin, path);
    const httpPlayer = start(ffmpeg, saveAsFlvArgs(o.flvUrl(path), outHttp), 30_000);
    const pub = await publisher.done;
    assert.equal(pub.code, 0, `publisher failed: ${pub.stderr}`);
    const [r1, r2] = await Promise.all([rtmpPlayer.done, httpPlayer.done]);
    assert.equal(r1.code, 0, `RTMP player: ${r1.stderr}`);
    assert.equal(r2.code, 0, `HTTP-FLV player: ${r2.stderr}`);
    await assertSameMedia(ffprobe, outRtmp, 'RTMP play of an HTTP-FLV publish');
    await assertSameMedia(ffprobe, outHttp, 'HTTP-FLV play of an HTTP-FLV publish');
  });

  test('a plain Content-Length POST publishes too; MP3 audio passes through untouched', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    const ffprobe = requireTool(t, 'ffprobe');
    if (!ffmpeg || !ffprobe) return;
    const path = 'live/mp3';
    const outRtmp = join(tmp, 'mp3-rtmp.flv');
    const rtmpPlayer = start(ffmpeg, saveAsFlvArgs(o.rtmpUrl(path), outRtmp), 30_000);
    // The POST below takes a few ms: the player must already be waiting, not merely started.
    await until(
      'the RTMP player to wait for the stream',
      () => (o.origin.hub.get(path)?.subscriberCount ?? 0) > 0,
    );
    const body = readFileSync(FIXTURE_MP3);
    const res = await fetch(`http://127.0.0.1:${o.ports.http}/${path}`, {
      method: 'POST',
      headers: { 'Content-Length': String(body.length), 'Content-Type': 'video/x-flv' },
      body,
    });
    assert.equal(res.status, 200, await res.text());
    const played = await rtmpPlayer.done;
    assert.equal(played.code, 0, played.stderr);
    const src = await probe(ffprobe, FIXTURE_MP3);
    const got = await probe(ffprobe, outRtmp);
    assert.equal(streamOf(got, 'audio')?.codec_name, 'mp3');
    assert.equal(streamOf(got, 'audio')?.nb_read_packets, streamOf(src, 'audio')?.nb_read_packets);
    assert.equal(streamOf(got, 'video')?.nb_read_packets, streamOf(src, 'video')?.nb_read_packets);
  });

  test('a late viewer gets metadata, sequence headers and a keyframe at once', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    if (!ffmpeg) return;
    const path = 'live/late';
    const publisher = start(ffmpeg, publishArgs(FIXTURE_10S, o.rtmpUrl(path), true), 30_000);
    try {
      await waitLive(o.origin, path);
      // 3.3 s in: the GOP (2 s) started at 2.0 s, so the next keyframe is 0.7 s away.
      await new Promise((r) => setTimeout(r, 3300));
      const t0 = performance.now();
      const res = await httpGetStream(o.flvUrl(path));
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'video/x-flv');
      assert.equal(res.headers['access-control-allow-origin'], '*');
      const reader = new FlvTagReader();
      const kinds: string[] = [];
      const firstVideo = await new Promise<{ keyframe: boolean; ms: number; ts: number }>((resolve) => {
        res.onData((chunk) => {
          for (const tag of reader.push(chunk)) {
            const isSeqHeader = tag.type === 9 ? tag.body[1] === 0 : tag.type === 8 && tag.body[1] === 0;
            kinds.push(
              tag.type === 18 ? 'meta' : `${tag.type === 9 ? 'v' : 'a'}${isSeqHeader ? '-seq' : ''}`,
            );
            if (tag.type === 9 && !isSeqHeader) {
              resolve({ keyframe: tag.body[0]! >> 4 === 1, ms: performance.now() - t0, ts: tag.timestamp });
              res.destroy();
              return;
            }
          }
        });
      });
      assert.deepEqual(
        kinds.slice(0, 3).sort(),
        ['a-seq', 'meta', 'v-seq'],
        `first tags: ${kinds.join(',')}`,
      );
      assert.ok(firstVideo.keyframe, 'first video frame is not a keyframe');
      assert.ok(firstVideo.ms < 300, `first keyframe after ${firstVideo.ms.toFixed(0)} ms`);
      assert.ok(
        firstVideo.ts >= 1900 && firstVideo.ts <= 2100,
        `GOP starts at ${firstVideo.ts} ms, expected ~2000`,
      );
    } finally {
      publisher.child.kill('SIGKILL');
      await publisher.done;
    }
  });

  test('rtmpdump (librtmp) records a playable file', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    const ffprobe = requireTool(t, 'ffprobe');
    const rtmpdump = requireTool(t, 'rtmpdump');
    if (!ffmpeg || !ffprobe || !rtmpdump) return;
    const path = 'live/dump';
    const out = join(tmp, 'dump.flv');
    const publisher = start(ffmpeg, publishArgs(FIXTURE_3S, o.rtmpUrl(path), true), 30_000);
    await waitLive(o.origin, path);
    const dump = await run(rtmpdump, ['--live', '-q', '-r', o.rtmpUrl(path), '-o', out], 30_000);
    const pub = await publisher.done;
    assert.equal(pub.code, 0, `publisher failed: ${pub.stderr}`);
    assert.notEqual(dump.signal, 'SIGKILL', `rtmpdump did not stop at the end of the stream: ${dump.stderr}`);
    const decoded = await run(tools.ffmpeg!, ['-v', 'error', '-i', out, '-f', 'null', '-']);
    assert.equal(decoded.code, 0);
    assert.equal(decoded.stderr.trim(), '', `ffmpeg found errors in rtmpdump's file: ${decoded.stderr}`);
    const got = await probe(ffprobe, out);
    assert.equal(streamOf(got, 'video')?.codec_name, 'h264');
    assert.equal(streamOf(got, 'audio')?.codec_name, 'aac');
    assert.ok(Number(streamOf(got, 'video')?.nb_read_packets) >= 50, 'rtmpdump got too few video packets');
  });
});
