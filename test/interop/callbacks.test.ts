/**
 * HTTP callbacks against a real HTTP server the test runs: on_publish / on_play refuse with a
 * non-2xx answer or none in time, on_publish renames with a 3xx Location (the stream then plays
 * under the new name), and on_unpublish / on_stop / on_record_done arrive with what they
 * describe (the recordings' files on disk) — through FFmpeg, the RTMP client, HTTP-FLV and
 * WebSocket-FLV, on the origin and on an edge.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { RtmpClient } from '../../src/rtmp/client.js';
import { status, wsStatus } from '../helpers/answer-status.js';
import { captureLog, startEdge, type TestEdge } from '../helpers/edge.js';
import { httpGetStream } from '../helpers/flv-capture.js';
import { fixture, publishArgs } from '../helpers/media.js';
import { startOrigin, type TestOrigin, waitEnded, waitLive } from '../helpers/origin.js';
import { run, start } from '../helpers/run.js';
import { requireTool } from '../helpers/tools.js';

const FLV_3S = fixture('h264-aac-3s.flv');
/** The callback server's own token in its URLs: never to be logged. */
const CB_TOKEN = 'cbtoken-93ad';

interface Call {
  path: string;
  body: Record<string, unknown> & { action: string; app: string; stream: string };
}

/** A callback server: refuses `…/refuse`, answers `…/slow` late, renames `live/old`, records every call. */
async function callbackServer(): Promise<{ server: Server; base: string; calls: Call[] }> {
  const calls: Call[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as Call['body'];
      calls.push({ path: req.url ?? '', body });
      if (body.stream === 'refuse') return res.writeHead(403).end('no');
      if (body.stream === 'slow') {
        setTimeout(() => res.writeHead(200).end(), 1500).unref();
        return;
      }
      if (body.action === 'on_publish' && body.stream === 'old') {
        return res.writeHead(302, { Location: `/${body.app}/renamed` }).end();
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, base, calls };
}

async function waitFor<T>(what: string, find: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = find();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('a publisher admitted by a slow on_publish is not taken for idle once it publishes', async (t) => {
  const ffmpeg = requireTool(t, 'ffmpeg');
  if (!ffmpeg) return;
  const cb = await callbackServer();
  // The admission answers after 1.5 s ('slow'); the idle rule is 1 s; the file lasts 3 s.
  const o = await startOrigin({ onPublish: `${cb.base}/on_publish`, idleTimeoutMs: 1000 });
  const publisher = start(ffmpeg, publishArgs(FLV_3S, o.rtmpUrl('live/slow'), true), 30_000);
  try {
    const r = await publisher.done;
    assert.equal(r.code, 0, `FFmpeg was cut off: ${r.stderr.slice(-500)}`);
    assert.equal(cb.calls.filter((c) => c.body.action === 'on_publish').length, 1);
  } finally {
    publisher.child.kill('SIGKILL');
    await o.stop();
    cb.server.closeAllConnections();
    cb.server.close();
  }
});

describe('HTTP callbacks', { timeout: 60_000 }, () => {
  let cb: Awaited<ReturnType<typeof callbackServer>>;
  let o: TestOrigin;
  let edge: TestEdge;
  const captured = captureLog();
  const calls = (action: string, stream?: string) =>
    cb.calls.filter((c) => c.body.action === action && (stream === undefined || c.body.stream === stream));
  before(async () => {
    cb = await callbackServer();
    const url = (event: string) => `${cb.base}/${event}?token=${CB_TOKEN}`;
    o = await startOrigin(
      {
        onPublish: url('on_publish'),
        onUnpublish: url('on_unpublish'),
        onPlay: url('on_play'),
        onStop: url('on_stop'),
        onRecordDone: url('on_record_done'),
        callbackTimeoutMs: 400,
        record: { flv: true, hls: true, mp4: false },
      },
      captured.log,
    );
    edge = await startEdge(`http://127.0.0.1:${o.ports.http}`, {
      onPlay: url('edge_on_play'),
      onStop: url('edge_on_stop'),
      callbackTimeoutMs: 400,
      upstreamWaitMs: 300,
    });
  });
  after(async () => {
    await edge?.stop();
    await o?.stop();
    cb?.server.closeAllConnections();
    cb?.server.close();
  });

  test('FFmpeg publishes live/old; on_publish renames it (302 Location) and it plays as live/renamed', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    if (!ffmpeg) return;
    const publisher = start(ffmpeg, publishArgs(FLV_3S, `${o.rtmpUrl('live/old')}?who=cam1`, true), 30_000);
    try {
      await waitLive(o.origin, 'live/renamed');
      assert.equal(o.origin.hub.get('live/old')?.isLive ?? false, false);
      const viewer = await httpGetStream(`${o.flvUrl('live/renamed')}?viewer=v1`);
      assert.equal(viewer.status, 200);
      let bytes = 0;
      viewer.onData((c) => {
        bytes += c.length;
      });
      await waitFor('FLV bytes for the viewer', () => (bytes > 1000 ? true : undefined));
      viewer.destroy();
      const stop = await waitFor('on_stop', () => calls('on_stop', 'renamed')[0]);
      assert.deepEqual(stop.body.args, { viewer: 'v1' });
      assert.equal(stop.body.protocol, 'http-flv');
      assert.equal(stop.body.addr, '127.0.0.1');
      const r = await publisher.done;
      assert.equal(r.code, 0, r.stderr);
    } finally {
      publisher.child.kill('SIGKILL');
    }
    await waitEnded(o.origin, 'live/renamed');
    const [pub] = calls('on_publish', 'old');
    assert.ok(pub, 'on_publish was called');
    assert.deepEqual(pub.body.args, { who: 'cam1' });
    assert.equal(pub.body.protocol, 'rtmp');
    assert.equal(pub.body.app, 'live');
    assert.ok(pub.path.startsWith('/on_publish?token='), pub.path);
    assert.equal(calls('on_play', 'renamed').length, 1);
    const unpub = await waitFor('on_unpublish', () => calls('on_unpublish', 'renamed')[0]);
    assert.deepEqual(unpub.body.args, { who: 'cam1' });
    // Each recording, once complete on disk, with its files.
    const done = await waitFor('on_record_done for FLV and HLS', () => {
      const d = calls('on_record_done', 'renamed');
      return d.length >= 2 ? d : undefined;
    });
    const byKind = new Map(done.map((d) => [d.body.recorder, d.body.files as string[]]));
    assert.match(byKind.get('flv')?.[0] ?? '', /flv\/live\/renamed\/\d{8}_\d{6}\.flv$/);
    assert.match(byKind.get('hls')?.[0] ?? '', /hls\/live\/renamed\/index\.m3u8$/);
    for (const files of byKind.values()) for (const f of files) assert.ok(existsSync(f), `${f} exists`);
  });

  test('a non-2xx on_publish / on_play refuses: RTMP BadName / Play.Failed, HTTP-FLV and WS 403', async () => {
    const c = await RtmpClient.connect(o.rtmpUrl('live/refuse'));
    await assert.rejects(
      c.publish(),
      /NetStream\.Publish\.BadName.*on_publish callback refused \(HTTP 403\)/,
    );
    c.close('done');
    const p = await RtmpClient.connect(o.rtmpUrl('live/refuse'));
    await assert.rejects(p.play(), /NetStream\.Play\.Failed.*on_play callback refused/);
    p.close('done');
    assert.equal(await status(o.flvUrl('live/refuse')), 403);
    assert.equal(await wsStatus(o.wsUrl('live/refuse')), 403);
    const post = await fetch(`http://127.0.0.1:${o.ports.http}/live/refuse`, {
      method: 'POST',
      body: Buffer.alloc(0),
    });
    assert.equal(post.status, 403);
  });

  test('no answer within callbackTimeoutMs refuses, and in about that time', async () => {
    const t0 = Date.now();
    const c = await RtmpClient.connect(o.rtmpUrl('live/slow'));
    await assert.rejects(c.publish(), /BadName.*on_publish callback failed: no answer in 400 ms/);
    c.close('done');
    assert.ok(Date.now() - t0 < 1400, `took ${Date.now() - t0} ms`);
    assert.equal(await status(o.flvUrl('live/slow')), 403);
  });

  test('RTMP: a play allowed by on_play, then on_stop when the connection closes', async () => {
    const holder = await RtmpClient.connect(o.rtmpUrl('live/held'));
    await holder.publish();
    try {
      const viewer = await RtmpClient.connect(`${o.rtmpUrl('live/held')}?seat=9`);
      await viewer.play();
      viewer.close('done');
      const stop = await waitFor('on_stop', () => calls('on_stop', 'held')[0]);
      assert.deepEqual(stop.body.args, { seat: '9' });
      assert.equal(stop.body.protocol, 'rtmp');
    } finally {
      holder.close('done');
    }
    const unpub = await waitFor('on_unpublish', () => calls('on_unpublish', 'held')[0]);
    assert.equal(unpub.body.protocol, 'rtmp');
  });

  test("an edge: on_play refuses its viewer, on_stop tells the viewer's end", async () => {
    assert.equal(await status(edge.flvUrl('live/refuse')), 403);
    const atEdge = (event: string, stream: string) =>
      cb.calls.find((c) => c.path.startsWith(`/${event}?`) && c.body.stream === stream);
    assert.ok(atEdge('edge_on_play', 'refuse'), 'the edge asked its own on_play');
    // Nobody publishes live/edged: admitted by on_play, the viewer waits upstreamWaitMs for it,
    // is told 404, and its connection's end is on_stop.
    const ws = new WebSocket(`${edge.wsUrl('live/edged')}?e=1`);
    ws.on('error', () => {});
    try {
      await waitFor('edge on_play', () => atEdge('edge_on_play', 'edged'));
      const stop = await waitFor('edge on_stop', () => atEdge('edge_on_stop', 'edged'));
      assert.deepEqual(stop.body.args, { e: '1' });
      assert.equal(stop.body.protocol, 'ws-flv');
      assert.equal(stop.body.addr, '127.0.0.1');
    } finally {
      ws.terminate();
    }
  });

  test("neither the clients' queries nor the callback URLs' token reached the log", () => {
    const lines = captured.lines();
    assert.ok(lines.some((l) => /renamed live\/old to live\/renamed/.test(String(l.msg))));
    for (const secret of [CB_TOKEN, 'who=', 'cam1', 'viewer=', 'seat=']) {
      const leak = lines.find((l) => JSON.stringify(l).includes(secret));
      assert.equal(leak, undefined, `${secret} was logged`);
    }
  });

  test('the RTMP publish of FFmpeg refused by on_publish exits with an error', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    if (!ffmpeg) return;
    const r = await run(ffmpeg, publishArgs(FLV_3S, o.rtmpUrl('live/refuse')), 20_000);
    assert.notEqual(r.code, 0);
    assert.equal(o.origin.hub.get('live/refuse')?.isLive ?? false, false);
  });
});
