/**
 * The JSON API against a real FFmpeg publish with real viewers of each protocol: the web port's
 * /api/streams, /api/server, /api/recordings and DELETE, and the seed's listPushStream on the
 * live port.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { httpGetStream } from '../helpers/flv-capture.js';
import { fixture, publishArgs } from '../helpers/media.js';
import { startOrigin, type TestOrigin, waitEnded, waitLive } from '../helpers/origin.js';
import { type Running, start } from '../helpers/run.js';
import { tools } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const TOKEN = 'test-admin-token';
const PATH = 'live/api';
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

// Loose views of the answers: each test asserts the fields it is about.
// biome-ignore lint/suspicious/noExplicitAny: JSON answers are checked field by field below.
type Json = any;

describe('JSON API', () => {
  let o: TestOrigin;
  let publisher: Running;
  let rtmpViewer: Running;
  let flvViewer: Awaited<ReturnType<typeof httpGetStream>>;
  let wsViewer: WebSocket;
  const web = (p: string, init?: RequestInit) => fetch(`http://127.0.0.1:${o.ports.web}${p}`, init);
  const json = async (p: string): Promise<Json> => {
    const res = await web(p);
    assert.equal(res.status, 200, p);
    return res.json();
  };

  before(async () => {
    // FFmpeg is always there: Debian's, or the npm package's (test/helpers/tools.ts).
    assert.ok(tools.ffmpeg, 'no FFmpeg');
    o = await startOrigin({ adminToken: TOKEN });
    // A looping publish at its own pace: the API is read while it runs.
    publisher = start(tools.ffmpeg!, [
      '-stream_loop',
      '-1',
      ...publishArgs(fixture('h264-aac-bframes-10s.flv'), o.rtmpUrl(PATH), true),
    ]);
    await waitLive(o.origin, PATH, 10_000, 30);
    rtmpViewer = start(tools.ffmpeg!, [
      '-v',
      'error',
      '-i',
      o.rtmpUrl(PATH),
      '-c',
      'copy',
      '-f',
      'null',
      '-',
    ]);
    flvViewer = await httpGetStream(o.flvUrl(PATH));
    flvViewer.onData(() => {});
    wsViewer = new WebSocket(o.wsUrl(PATH));
    await new Promise((r, j) => wsViewer.once('open', r).once('error', j));
    const s = () => o.origin.hub.get(PATH);
    await until('a viewer of each protocol', () => s()?.viewerCount === 3, 15_000);
    // Two samples of the 1 s sampler, so the bitrate is the measured one.
    await new Promise((r) => setTimeout(r, 2200));
  });

  after(async () => {
    wsViewer?.terminate();
    flvViewer?.destroy();
    rtmpViewer?.child.kill('SIGKILL');
    publisher?.child.kill('SIGKILL');
    await o?.stop();
  });

  test('GET /api/streams: codecs, size, frame rate, bitrate, uptime, bytes and viewers per protocol', async () => {
    const { streams } = await json('/api/streams');
    assert.equal(streams.length, 1);
    const s = streams[0];
    assert.equal(s.app, 'live');
    assert.equal(s.stream, 'api');
    assert.equal(s.path, PATH);
    assert.equal(s.publisher.protocol, 'rtmp');
    assert.match(s.publisher.remote, /^127\.0\.0\.1:\d+$/);
    assert.match(s.publisher.clientId, /^[\w-]{8}$/);
    assert.ok(Math.abs(Date.parse(s.startedAt) - Date.now()) < 60_000);
    assert.ok(s.uptimeSeconds >= 2, `uptime ${s.uptimeSeconds}`);
    // The fixture (ffprobe): H.264 High level 1.3, 320x240, 25 fps; AAC LC 44.1 kHz stereo.
    assert.deepEqual(s.video, {
      codec: 'h264',
      codecString: 'avc1.64000d',
      profile: 'High',
      level: '1.3',
      width: 320,
      height: 240,
      fps: 25,
    });
    assert.deepEqual(s.audio, {
      codec: 'aac',
      codecString: 'mp4a.40.2',
      profile: 'LC',
      sampleRate: 44100,
      channels: 2,
    });
    // 283,638 bytes over 10 s of media is ~227 kbit/s of FLV; the payload rate is a bit less.
    assert.ok(s.bitrateKbps > 120 && s.bitrateKbps < 400, `bitrate ${s.bitrateKbps} kbit/s`);
    assert.ok(s.bytesIn > 50_000, `bytesIn ${s.bytesIn}`);
    assert.ok(s.framesIn > 50);
    assert.deepEqual(s.viewers, { total: 3, rtmp: 1, 'http-flv': 1, 'ws-flv': 1 });
    // Each viewer got at least the GOP cache: tens of kB.
    assert.ok(s.bytesOut > 3 * 20_000, `bytesOut ${s.bytesOut}`);
    assert.equal(s.history, undefined, 'history only when asked for');
    const withHistory = await json('/api/streams?history=1');
    assert.ok(withHistory.streams[0].history.length >= 2);
  });

  test('GET /api/streams/{app}/{stream}: one stream with its bitrate and viewer history', async () => {
    const s = await json(`/api/streams/${PATH}`);
    assert.equal(s.path, PATH);
    assert.ok(s.history.length >= 2);
    for (const h of s.history) {
      assert.equal(typeof h.t, 'number');
      assert.ok(h.bitrate >= 0);
      assert.ok(h.viewers >= 0 && h.viewers <= 3);
    }
    assert.equal(s.history.at(-1).viewers, 3);
    const missing = await web('/api/streams/live/nobody');
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as Json).error.code, 'ERR_STREAM_NOT_FOUND');
  });

  test("the live port's GET /api?name=listPushStream lists the publishers in the seed's flat shape", async () => {
    const res = await fetch(`http://127.0.0.1:${o.ports.http}/api?name=listPushStream`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const list = (await res.json()) as Json[];
    assert.equal(list.length, 1);
    const p = list[0];
    assert.deepEqual(Object.keys(p).sort(), [
      'app',
      'audioChannels',
      'audioCodec',
      'audioProfile',
      'audioSampleRate',
      'bitrateKbps',
      'bytesIn',
      'clientId',
      'ip',
      'name',
      'protocol',
      'startTime',
      'stream',
      'videoCodec',
      'videoFps',
      'videoHeight',
      'videoLevel',
      'videoProfile',
      'videoWidth',
    ]);
    const streams = await json('/api/streams');
    assert.equal(p.clientId, streams.streams[0].publisher.clientId, 'one client id in both APIs');
    assert.equal(p.stream, PATH);
    assert.equal(p.app, 'live');
    assert.equal(p.name, 'api');
    assert.equal(p.protocol, 'rtmp');
    assert.equal(p.ip, '127.0.0.1');
    assert.equal(p.videoCodec, 'H264');
    assert.equal(p.videoProfile, 'High');
    assert.equal(p.videoLevel, '1.3');
    assert.equal(p.videoWidth, 320);
    assert.equal(p.videoHeight, 240);
    assert.equal(p.videoFps, 25);
    assert.equal(p.audioCodec, 'AAC');
    assert.equal(p.audioProfile, 'LC');
    assert.equal(p.audioSampleRate, 44100);
    assert.equal(p.audioChannels, 2);
    assert.ok(p.bytesIn > 50_000);
    assert.ok(p.bitrateKbps > 120 && p.bitrateKbps < 400);
    assert.ok(!Number.isNaN(Date.parse(p.startTime)));
    for (const q of ['?name=listStreams', '', '?name=']) {
      const bad = await fetch(`http://127.0.0.1:${o.ports.http}/api${q}`);
      assert.equal(bad.status, 404, q);
      assert.equal(((await bad.json()) as Json).error.code, 'ERR_NOT_FOUND');
    }
  });

  test('GET /api/server: version, uptime, ports, connections, publishers and viewers, bytes, CPU, memory', async () => {
    const s = await json('/api/server');
    assert.equal(s.version, pkg.version);
    assert.ok(s.uptimeSeconds >= 0);
    assert.deepEqual(s.ports, o.ports);
    assert.equal(s.streams, 1);
    assert.deepEqual(s.publishers, { rtmp: 1 });
    assert.deepEqual(s.viewers, { rtmp: 1, 'http-flv': 1, 'ws-flv': 1 });
    // RTMP: the publisher and the RTMP viewer; live port: the HTTP-FLV and WS-FLV viewers (and
    // the keep-alive connections of this test's own API calls).
    assert.equal(s.connections.rtmp, 2);
    assert.ok(s.connections.http >= 2);
    assert.ok(s.connections.web >= 1);
    assert.ok(s.byPort.rtmp.bytesIn > 50_000);
    assert.ok(s.byPort.http.bytesOut > 20_000);
    assert.equal(s.bytesIn, s.byPort.rtmp.bytesIn + s.byPort.http.bytesIn + s.byPort.web.bytesIn);
    assert.ok(s.bytesOut >= s.byPort.rtmp.bytesOut + s.byPort.http.bytesOut);
    assert.equal(typeof s.cpu.percent, 'number');
    assert.ok(s.cpu.cores >= 1);
    assert.ok(s.memory.rss > 10_000_000);
    assert.ok(s.memory.heapUsed > 0);
  });

  test('unknown API paths and methods are JSON errors', async () => {
    const nope = await web('/api/nope');
    assert.equal(nope.status, 404);
    assert.equal(((await nope.json()) as Json).error.code, 'ERR_NOT_FOUND');
    const post = await web('/api/streams', { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(((await post.json()) as Json).error.code, 'ERR_METHOD_NOT_ALLOWED');
  });

  test('DELETE /api/streams/{app}/{stream}: 401 without or with a wrong token; with it the publisher is cut off', async () => {
    const url = `/api/streams/${PATH}`;
    const none = await web(url, { method: 'DELETE' });
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    assert.equal(((await none.json()) as Json).error.code, 'ERR_ADMIN_TOKEN');
    const wrong = await web(url, { method: 'DELETE', headers: { Authorization: `Bearer ${TOKEN}x` } });
    assert.equal(wrong.status, 401);
    assert.ok(o.origin.hub.get(PATH)?.isLive, 'still live after refused calls');
    const ok = await web(url, { method: 'DELETE', headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { stream: PATH, ended: true });
    assert.equal(o.origin.hub.get(PATH)?.isLive ?? false, false);
    // FFmpeg sees its connection closed and gives up (it does not reconnect).
    const r = await publisher.done;
    assert.notEqual(r.code, 0);
    assert.equal((await web(url)).status, 404);
    const again = await web(url, { method: 'DELETE', headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.equal(again.status, 404);
  });

  test('GET /api/recordings: per stream the FLV, HLS and MP4 sessions with sizes, durations, codecs, URLs', async () => {
    await waitEnded(o.origin, PATH);
    const { recordings } = await json('/api/recordings');
    const r = recordings.find((x: Json) => x.path === PATH);
    assert.ok(r, 'the stream has recordings');
    assert.equal(r.flv.length, 1);
    const flv = r.flv[0];
    assert.match(flv.file, /^\d{8}_\d{6}\.flv$/);
    assert.equal(flv.url, `/flv/${PATH}/${flv.file}`);
    // The publish ran in real time for the 2-3 s before it was cut off.
    assert.ok(flv.durationSeconds > 2 && flv.durationSeconds < 20, `FLV duration ${flv.durationSeconds}`);
    const served = await web(flv.url);
    assert.equal(served.status, 200);
    assert.equal((await served.arrayBuffer()).byteLength, flv.size);
    const hls = r.hls[0];
    assert.equal(hls.session, null);
    assert.equal(hls.url, `/hls/${PATH}/index.m3u8`);
    assert.equal(hls.ended, true);
    assert.equal(hls.recording, false);
    assert.ok(hls.segments >= 1 && hls.size > 10_000 && hls.durationSeconds > 1);
    const mp4 = r.mp4[0];
    assert.ok(mp4.full, 'the complete MP4 is listed');
    assert.match(mp4.full.url, new RegExp(`^/mp4/${PATH}/output_merge/(api|stream)_full\\.mp4$`));
    assert.ok(Math.abs(mp4.full.durationSeconds - flv.durationSeconds) < 1.5, 'MP4 and FLV durations agree');
    assert.equal((await web(mp4.full.url, { method: 'HEAD' })).status, 200);
    assert.deepEqual(mp4.merge.codecs, ['avc1.64000d', 'mp4a.40.2']);
    assert.equal(mp4.merge.init, `/mp4/${PATH}/output_merge/init.mp4`);
    assert.deepEqual(mp4.separate.video.codecs, ['avc1.64000d']);
    assert.deepEqual(mp4.separate.audio.codecs, ['mp4a.40.2']);
    assert.ok(mp4.merge.segments >= 1 && mp4.merge.ended);
  });
});

describe('admin API without an admin token', () => {
  test('DELETE is 403: the admin API is off', async () => {
    const o = await startOrigin({ record: { flv: false, hls: false, mp4: false } });
    try {
      const res = await fetch(`http://127.0.0.1:${o.ports.web}/api/streams/live/x`, {
        method: 'DELETE',
        headers: { Authorization: 'Bearer anything' },
      });
      assert.equal(res.status, 403);
      assert.equal(((await res.json()) as Json).error.code, 'ERR_ADMIN_TOKEN');
    } finally {
      await o.stop();
    }
  });
});
