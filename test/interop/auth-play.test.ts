/**
 * Signed play (`authPlay`), the recordings behind it (`authFiles`), Node-Media-Server's MD5
 * signatures, static stream keys and address lists — each through the real protocol: the RTMP
 * client and FFmpeg, HTTP-FLV GETs, WebSocket upgrades, web-port file GETs, and an edge that passes
 * its viewers' queries upstream. Missing credentials are 401 / a refused RTMP status, bad ones 403.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { signPath } from '../../src/auth/sign.js';
import { pushFile } from '../../src/pusher/pusher.js';
import { RtmpClient } from '../../src/rtmp/client.js';
import { status, wsStatus } from '../helpers/answer-status.js';
import { captureLog, startEdge, type TestEdge } from '../helpers/edge.js';
import { fixture, publishArgs } from '../helpers/media.js';
import { startOrigin, type TestOrigin, waitEnded, waitLive } from '../helpers/origin.js';
import { run } from '../helpers/run.js';
import { requireTool } from '../helpers/tools.js';

const FLV_3S = fixture('h264-aac-3s.flv');
const SECRET = 'play-secret-6c1f';
const now = () => Math.floor(Date.now() / 1000);
const sign = (path: string, secret = SECRET, expires = now() + 60) =>
  `?sign=${signPath(path, secret, expires)}`;
const nmsSign = (path: string, secret = SECRET, expires = now() + 60) =>
  `?sign=${expires}-${createHash('md5').update(`${path}-${expires}-${secret}`).digest('hex')}`;

/** A whole GET body. */
function body(url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.setTimeout(5000, () => req.destroy(new Error(`no answer from GET ${url}`)));
    req.on('error', reject);
  });
}

async function rtmpRefused(url: string, action: 'publish' | 'play', pattern: RegExp): Promise<void> {
  const c = await RtmpClient.connect(url);
  try {
    await assert.rejects(action === 'publish' ? c.publish() : c.play(), pattern, url);
  } finally {
    c.close('done');
  }
}

async function waitFor(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('signed play, signed recordings, NMS signatures', { timeout: 60_000 }, () => {
  let o: TestOrigin;
  let edge: TestEdge;
  let openEdge: TestEdge;
  const stopPush = new AbortController();
  let pushing: Promise<unknown> | undefined;
  const captured = captureLog();
  before(async () => {
    o = await startOrigin(
      {
        authSecret: SECRET,
        authPlay: true,
        authFiles: true,
        authNmsMd5: true,
        segmentSeconds: 1,
        record: { flv: false, hls: true, mp4: false },
      },
      captured.log,
    );
    // A publisher that stays live for the whole suite (signed, over RTMP).
    pushing = pushFile({
      file: FLV_3S,
      url: `${o.rtmpUrl('live/cam')}${sign('/live/cam')}`,
      loop: true,
      signal: stopPush.signal,
    }).catch((e: unknown) => e);
    await waitLive(o.origin, 'live/cam');
    const upstream = `http://127.0.0.1:${o.ports.http}`;
    edge = await startEdge(upstream, { authSecret: SECRET, authPlay: true });
    openEdge = await startEdge(upstream);
  });
  after(async () => {
    stopPush.abort();
    await Promise.race([pushing, new Promise((r) => setTimeout(r, 3000))]);
    await edge?.stop();
    await openEdge?.stop();
    await o?.stop();
  });

  const cases = () =>
    [
      ['missing', '', 401],
      ['wrong secret', sign('/live/cam', 'not-the-secret'), 403],
      ['expired', sign('/live/cam', SECRET, now() - 5), 403],
      ['for another stream', sign('/live/other'), 403],
      ['malformed', '?sign=123-abc', 403],
      ['valid', sign('/live/cam'), 200],
      ['valid NMS md5', nmsSign('/live/cam'), 200],
      ['NMS md5 with a wrong secret', nmsSign('/live/cam', 'nope'), 403],
      ['NMS md5 expired', nmsSign('/live/cam', SECRET, now() - 5), 403],
    ] as const;

  test('HTTP-FLV and WebSocket-FLV play: 401 without a signature, 403 with a bad one', async () => {
    for (const [what, query, want] of cases()) {
      assert.equal(await status(`${o.flvUrl('live/cam')}${query}`), want, `HTTP-FLV ${what}`);
      assert.equal(await wsStatus(`${o.wsUrl('live/cam')}${query}`), want === 200 ? 101 : want, `WS ${what}`);
    }
  });

  test('RTMP play: NetStream.Play.Failed for a missing or bad signature, in the stream name or the tcUrl', async () => {
    for (const [what, query, want] of cases()) {
      const url = `${o.rtmpUrl('live/cam')}${query}`;
      if (want !== 200) {
        await rtmpRefused(url, 'play', /NetStream\.Play\.Failed/);
        continue;
      }
      const c = await RtmpClient.connect(url);
      await c.play();
      c.close(`done: ${what}`);
    }
    // The query after the app (the tcUrl form OBS and FFmpeg's -rtmp_app use).
    const base = `rtmp://127.0.0.1:${o.ports.rtmp}`;
    const viaApp = await RtmpClient.connect(`${base}/live${encodeURIComponent(sign('/live/cam'))}/cam`);
    await viaApp.play('cam');
    viaApp.close('done');
    const badApp = await RtmpClient.connect(
      `${base}/live${encodeURIComponent(sign('/live/cam', 'nope'))}/cam`,
    );
    await assert.rejects(badApp.play('cam'), /NetStream\.Play\.Failed.*wrong/);
    badApp.close('done');
  });

  test('FFmpeg plays a signed RTMP URL, and is refused an unsigned one', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    if (!ffmpeg) return;
    const args = (url: string) => ['-v', 'error', '-i', url, '-t', '1', '-f', 'null', '-'];
    const ok = await run(ffmpeg, args(`${o.rtmpUrl('live/cam')}${sign('/live/cam')}`), 20_000);
    assert.equal(ok.code, 0, ok.stderr);
    const refused = await run(ffmpeg, args(o.rtmpUrl('live/cam')), 20_000);
    assert.notEqual(refused.code, 0);
  });

  test('publishing: a play signature is no licence to publish another name; RTMP BadName, HTTP 401/403', async () => {
    await rtmpRefused(o.rtmpUrl('live/new'), 'publish', /NetStream\.Publish\.BadName.*needs a signed URL/);
    await rtmpRefused(
      `${o.rtmpUrl('live/new')}${sign('/live/cam')}`,
      'publish',
      /NetStream\.Publish\.BadName.*wrong/,
    );
    await rtmpRefused(
      `${o.rtmpUrl('live/new')}${sign('/live/new', SECRET, now() - 1)}`,
      'publish',
      /NetStream\.Publish\.BadName.*expired/,
    );
    const post = (q: string) =>
      fetch(`http://127.0.0.1:${o.ports.http}/live/new${q}`, { method: 'POST', body: Buffer.alloc(0) });
    assert.equal((await post('')).status, 401);
    assert.equal((await post(sign('/live/other'))).status, 403);
    assert.equal((await post(nmsSign('/live/new', 'nope'))).status, 403);
  });

  test('HLS files: the playlist and its segments need the signature; the playlist passes it on', async () => {
    const playlist = join(o.dataDir, 'hls/live/cam/index.m3u8');
    await waitFor('an HLS playlist with a segment', () => {
      return existsSync(playlist) && /\.ts/.test(readFileSync(playlist, 'utf8'));
    });
    const web = `http://127.0.0.1:${o.ports.web}`;
    assert.equal(await status(`${web}/hls/live/cam/index.m3u8`), 401);
    assert.equal(await status(`${web}/hls/live/cam/index.m3u8${sign('/live/other')}`), 403);
    const q = sign('/live/cam');
    const signed = await body(`${web}/hls/live/cam/index.m3u8${q}`);
    assert.equal(signed.status, 200);
    const segment = signed.text.split('\n').find((l) => l.includes('.ts'));
    assert.ok(segment?.endsWith(q), `the segment URI carries the query: ${segment}`);
    assert.equal(await status(`${web}/hls/live/cam/${segment}`), 200);
    assert.equal(await status(`${web}/hls/live/cam/${segment!.split('?')[0]}`), 401);
    // A path that is no stream's file is refused, not served.
    assert.equal(await status(`${web}/hls/live${q}`), 403);
  });

  test('edges: one that checks each viewer itself, one that passes the query upstream unchanged', async () => {
    const good = sign('/live/cam');
    assert.equal(await status(`${edge.flvUrl('live/cam')}${good}`), 200);
    // The pull is open now, so a second viewer is answered by the edge alone: it must check too.
    assert.equal(await status(edge.flvUrl('live/cam')), 401);
    assert.equal(await status(`${edge.flvUrl('live/cam')}${sign('/live/cam', 'nope')}`), 403);
    assert.equal(await wsStatus(edge.wsUrl('live/cam')), 401);
    // Without settings of its own, the edge's pull carries the viewer's query to the origin.
    assert.equal(await status(openEdge.flvUrl('live/cam')), 401);
    assert.equal(await status(`${openEdge.flvUrl('live/cam')}${good}`), 200);
  });

  test('no signature, secret or query reached the log', () => {
    const text = JSON.stringify(captured.lines());
    assert.ok(captured.lines().length > 0);
    assert.ok(!text.includes(SECRET), 'the secret was logged');
    // (Messages may name the parameter, `?sign=…`, never a value.)
    const leak = captured.lines().find((l) => /sign=\d/.test(JSON.stringify(l)));
    assert.equal(leak, undefined, 'a query was logged');
    assert.ok(!/[0-9a-f]{32}/.test(text.replace(/"timelineId":"[0-9a-f]+"/g, '')), 'a signature was logged');
  });
});

describe('stream keys and address lists', { timeout: 60_000 }, () => {
  let o: TestOrigin;
  const captured = captureLog();
  before(async () => {
    // Listening on ::, so IPv4 clients arrive as ::ffff:127.0.0.1 (the mapped form the lists must match).
    o = await startOrigin(
      {
        host: '::',
        authKeys: { live: 'app-key-1', 'live/special': 'stream-key-2' },
        authPlayKeys: { 'live/vip': 'view-key-3' },
        authPublishDeny: { blocked: ['127.0.0.0/8'] },
        authPlayDeny: { blocked: ['::1', '10.0.0.0/8', '127.0.0.1'], v6: ['::1/128'] },
        authPublishAllow: { lan: ['10.0.0.0/8'] },
        record: { flv: false, hls: false, mp4: false },
      },
      captured.log,
    );
  });
  after(() => o?.stop());

  test('FFmpeg publishes with the app key as ?key=; a wrong or missing key is refused', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    if (!ffmpeg) return;
    const ok = await run(ffmpeg, publishArgs(FLV_3S, `${o.rtmpUrl('live/a')}?key=app-key-1`), 30_000);
    assert.equal(ok.code, 0, ok.stderr);
    await waitEnded(o.origin, 'live/a');
    await rtmpRefused(
      `${o.rtmpUrl('live/a')}?streamKey=nope`,
      'publish',
      /BadName.*stream key for live\/a is wrong/,
    );
    await rtmpRefused(o.rtmpUrl('live/a'), 'publish', /BadName.*needs its stream key/);
  });

  test('a stream key wins over its app key; ?streamKey= and ?secret= work too; HTTP 401/403', async () => {
    await rtmpRefused(`${o.rtmpUrl('live/special')}?key=app-key-1`, 'publish', /BadName.*wrong/);
    const c = await RtmpClient.connect(`${o.rtmpUrl('live/special')}?streamKey=stream-key-2`);
    await c.publish();
    c.close('done');
    const post = (path: string, q: string) =>
      fetch(`http://127.0.0.1:${o.ports.http}/${path}${q}`, { method: 'POST', body: Buffer.alloc(0) });
    assert.equal((await post('live/b', '')).status, 401);
    assert.equal((await post('live/b', '?key=wrong')).status, 403);
    const pushed = await pushFile({
      file: FLV_3S,
      url: `ws://127.0.0.1:${o.ports.http}/live/c?secret=app-key-1`,
      speed: 8,
      reconnect: false,
    });
    assert.ok(pushed.frames > 0);
  });

  test('a play key guards its stream only', async () => {
    const holder = await RtmpClient.connect(`${o.rtmpUrl('live/vip')}?key=app-key-1`);
    await holder.publish();
    try {
      assert.equal(await status(o.flvUrl('live/vip')), 401);
      assert.equal(await status(`${o.flvUrl('live/vip')}?key=app-key-1`), 403);
      assert.equal(await wsStatus(`${o.wsUrl('live/vip')}?key=view-key-3`), 101);
      await rtmpRefused(o.rtmpUrl('live/vip'), 'play', /Play\.Failed.*needs its stream key/);
      // Other streams of the app play without a key (the app key is the publishers').
      assert.equal(await status(o.flvUrl('live/other')), 404);
    } finally {
      holder.close('done');
    }
  });

  test('deny lists refuse publishers and viewers by address (IPv4-mapped); allow lists refuse the rest', async () => {
    await rtmpRefused(o.rtmpUrl('blocked/x'), 'publish', /BadName.*denied from this address/);
    await rtmpRefused(o.rtmpUrl('blocked/x'), 'play', /Play\.Failed.*denied from this address/);
    assert.equal(await status(o.flvUrl('blocked/x')), 403);
    assert.equal(await wsStatus(o.wsUrl('blocked/x')), 403);
    await rtmpRefused(o.rtmpUrl('lan/x'), 'publish', /BadName.*not allowed from this address/);
    const res = await fetch(`http://127.0.0.1:${o.ports.http}/lan/x`, {
      method: 'POST',
      body: Buffer.alloc(0),
    });
    assert.equal(res.status, 403);
  });

  test('no key reached the log', () => {
    assert.ok(captured.lines().some((l) => l.msg === 'refused'));
    for (const key of ['app-key-1', 'stream-key-2', 'view-key-3', 'key=n', 'key=w']) {
      const leak = captured.lines().find((l) => JSON.stringify(l).includes(key));
      assert.equal(leak, undefined, `${key} was logged`);
    }
  });
});
