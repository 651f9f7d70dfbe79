/**
 * A three-tier cascade: origin → edge 1 → edge 2 → edge 3, with FFmpeg publishing. What FFmpeg
 * reads from the last tier is what was published (codecs, resolution, duration, decodable), and
 * each tier pulls the stream once however many viewers it has: the origin's API counts one
 * viewer, each edge's API one viewer for the tier below plus its own.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { startEdge, type TestEdge } from '../helpers/edge.js';
import { fixture, publishArgs } from '../helpers/media.js';
import { startOrigin, type TestOrigin, waitLive } from '../helpers/origin.js';
import { assertDecodesClean, probe, streamOf } from '../helpers/probe.js';
import { type Running, start } from '../helpers/run.js';
import { requireTool } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const PATH = 'live/cascade';
const tmp = mkdtempSync(join(tmpdir(), 'estuary-cascade-'));

/** A raw HTTP-FLV viewer that reads and counts bytes until closed. */
function rawViewer(port: number, path: string): { socket: Socket; bytes: () => number } {
  let n = 0;
  const socket = connect(port, '127.0.0.1', () => {
    socket.write(`GET /${path}.flv HTTP/1.1\r\nHost: x\r\n\r\n`);
  });
  socket.on('data', (d: Buffer) => {
    n += d.length;
  });
  socket.on('error', () => {});
  return { socket, bytes: () => n };
}

interface OriginApi {
  streams: { app: string; stream: string; viewers: Record<string, number> }[];
}

describe('three-tier cascade', { timeout: 60_000 }, () => {
  let o: TestOrigin;
  const edges: TestEdge[] = [];

  before(async () => {
    o = await startOrigin({ record: { flv: false, hls: false, mp4: false } });
    let upstream = `http://127.0.0.1:${o.ports.http}`;
    for (let i = 0; i < 3; i++) {
      // A quick give-up, so the end of the stream reaches the last tier within seconds.
      const e = await startEdge(upstream, { giveUpMs: 600 });
      edges.push(e);
      upstream = e.base;
    }
  });

  after(async () => {
    for (const e of edges) await e.stop();
    await o?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('the last tier plays what was published; one pull per tier, whatever the viewers', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    const ffprobe = requireTool(t, 'ffprobe');
    if (!ffmpeg || !ffprobe) return;
    const [e1, e2, e3] = edges as [TestEdge, TestEdge, TestEdge];
    const publisher: Running = start(ffmpeg, publishArgs(fixture('h264-aac-3s.flv'), o.rtmpUrl(PATH), true));
    const viewers: { socket: Socket; bytes: () => number }[] = [];
    try {
      await waitLive(o.origin, PATH);
      // Joined in the first GOP (keyframes every 2 s): the GOP cache starts at 0 on every tier.
      const out = join(tmp, 'tier3.flv');
      const reader = start(ffmpeg, ['-v', 'error', '-i', e3.flvUrl(PATH), '-c', 'copy', '-y', out], 30_000);
      for (let i = 0; i < 20; i++) viewers.push(rawViewer(e3.port, PATH));
      for (let i = 0; i < 3; i++) viewers.push(rawViewer(e2.port, PATH), rawViewer(e1.port, PATH));
      await until('every viewer has bytes', () => viewers.every((v) => v.bytes() > 1000), 10_000);
      await until(
        'FFmpeg reads the last tier',
        async () => (await e3.api()).streams[0]?.viewers.total === 21,
      );

      const originApi = (await (
        await fetch(`http://127.0.0.1:${o.ports.web}/api/streams`)
      ).json()) as OriginApi;
      const atOrigin = originApi.streams.find((s) => `${s.app}/${s.stream}` === PATH);
      assert.deepEqual(
        atOrigin?.viewers,
        { total: 1, 'http-flv': 1 },
        'the origin serves one pull, to edge 1',
      );
      const [a1, a2, a3] = await Promise.all([e1.api(), e2.api(), e3.api()]);
      assert.equal(a1.streams[0]?.viewers.total, 1 + 3, 'edge 1: the pull of edge 2 and its own viewers');
      assert.equal(a2.streams[0]?.viewers.total, 1 + 3, 'edge 2: the pull of edge 3 and its own viewers');
      assert.equal(a3.streams[0]?.viewers.total, 21, 'edge 3: FFmpeg and 20 raw viewers');
      for (const api of [a1, a2, a3]) {
        assert.equal(api.edge.streams, 1);
        assert.equal(api.edge.pulls.live, 1, 'one pull per stream on each edge');
        assert.ok(api.edge.bytesIn > 0 && api.edge.bytesOut > api.edge.bytesIn);
      }

      // The publisher ends; each tier gives up 600 ms after losing its upstream and ends its
      // viewers cleanly, so FFmpeg on the last tier finishes its file.
      const pub = await publisher.done;
      assert.equal(pub.code, 0, pub.stderr);
      const r = await reader.done;
      assert.equal(r.code, 0, `the reader on the last tier ends cleanly: ${r.stderr}`);
      const file = await probe(ffprobe, out);
      const duration = Number(file.format.duration);
      assert.ok(Math.abs(duration - 3) < 0.5, `tier 3 file lasts ${duration} s, published 3 s`);
      const v = streamOf(file, 'video');
      const a = streamOf(file, 'audio');
      assert.equal(v?.codec_name, 'h264');
      assert.equal(v?.width, 320);
      assert.equal(v?.height, 240);
      assert.equal(a?.codec_name, 'aac');
      assert.equal(a?.sample_rate, '44100');
      assert.equal(a?.channels, 2);
      await assertDecodesClean(ffmpeg, out);
      await until('every tier released the stream', async () => {
        const all = await Promise.all(edges.map((e) => e.api()));
        return all.every((x) => x.edge.streams === 0);
      });
    } finally {
      publisher.child.kill('SIGKILL');
      for (const v of viewers) v.socket.destroy();
    }
  });

  test('a stream the origin does not have is a quick 404 through every tier', async () => {
    const t0 = Date.now();
    const res = await fetch(edges[2]!.flvUrl('live/nobody'));
    assert.equal(res.status, 404);
    assert.match(await res.text(), /ERR_STREAM_NOT_FOUND/);
    assert.ok(Date.now() - t0 < 2000, `answered in ${Date.now() - t0} ms`);
    // A second ask is another quick 404 (no pull was left behind).
    assert.equal((await fetch(edges[2]!.flvUrl('live/nobody'))).status, 404);
    for (const e of edges) {
      assert.ok(!(await e.api()).streams.some((x) => x.stream === 'nobody'), 'no pull is left behind');
    }
  });

  test('an edge only plays: POST and a WebSocket publish get 405', async () => {
    const res = await fetch(`${edges[0]!.base}/live/x`, { method: 'POST', body: 'FLV' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, HEAD, OPTIONS');
    // A publisher that asks Expect: 100-continue (estuary push does) is refused before its body.
    const expect = await new Promise<{ status: number; continued: boolean }>((resolve, reject) => {
      let continued = false;
      const req = request(`${edges[0]!.base}/live/x`, {
        method: 'POST',
        headers: { Expect: '100-continue', 'Transfer-Encoding': 'chunked' },
      });
      req.on('continue', () => {
        continued = true;
      });
      req.on('response', (r) => {
        r.resume();
        resolve({ status: r.statusCode ?? 0, continued });
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    assert.deepEqual(expect, { status: 405, continued: false });
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${edges[0]!.port}/live/x`);
      ws.on('unexpected-response', (_req, r) => {
        resolve(r.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('open', () => reject(new Error('an edge accepted a WebSocket publish')));
      ws.on('error', () => {});
    });
    assert.equal(status, 405);
  });
});
