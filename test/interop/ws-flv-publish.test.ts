/**
 * WebSocket-FLV publish (`ws://HOST:8501/{app}/{stream}`), from `estuary push FILE ws://…` and
 * from a raw WebSocket client (the `ws` package), with the rules of HTTP-FLV publish: FFmpeg reads
 * what was published; the name, the credentials and a free name are checked before the upgrade;
 * the publish begins with the FLV header and a first tag; the bounds (message size, idle) close
 * that one connection with a close code saying why.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { signPath } from '../../src/auth/sign.js';
import { fixture } from '../helpers/media.js';
import { startOrigin, type TestOrigin, waitEnded, waitLive } from '../helpers/origin.js';
import { assertDecodesClean, probe, streamOf } from '../helpers/probe.js';
import { start } from '../helpers/run.js';
import { requireTool } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const RUN = new URL('../../src/cli/run.ts', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'estuary-ws-publish-'));
const SECRET = 'ws-secret';

/** `?sign=…` for `/{path}`, good for a minute. */
function signed(path: string): string {
  return `?sign=${signPath(`/${path}`, SECRET, Math.floor(Date.now() / 1000) + 60)}`;
}

/** Opens a WebSocket; resolves once open, or with the HTTP status of a refused upgrade. */
function openWs(url: string): Promise<{ ws?: WebSocket; status?: number; body?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', () => resolve({ status: res.statusCode, body }));
    });
    ws.once('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })),
  );
}

describe('WebSocket-FLV publish', { timeout: 60_000 }, () => {
  let o: TestOrigin;
  let strict: TestOrigin;

  before(async () => {
    o = await startOrigin({ record: { flv: false, hls: false, mp4: false } });
    strict = await startOrigin({
      record: { flv: false, hls: false, mp4: false },
      authSecret: SECRET,
      idleTimeoutMs: 1000,
      maxMessageBytes: 64 * 1024,
    });
  });

  after(async () => {
    await o?.stop();
    await strict?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('estuary push FILE ws://…: FFmpeg plays what was published, start to end', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    const ffprobe = requireTool(t, 'ffprobe');
    if (!ffmpeg || !ffprobe) return;
    const path = 'live/wspush';
    const pusher = start(
      process.execPath,
      [
        '--import',
        'tsx',
        RUN,
        'push',
        fixture('h264-aac-3s.flv'),
        o.wsUrl(path).replace(/\.flv$/, ''),
        '--no-reconnect',
      ],
      30_000,
    );
    await waitLive(o.origin, path);
    assert.equal(o.origin.hub.get(path)?.publisher?.protocol, 'ws-flv');
    const out = join(tmp, 'wspush.flv');
    const reader = start(ffmpeg, ['-v', 'error', '-i', o.flvUrl(path), '-c', 'copy', '-y', out], 30_000);
    const r = await pusher.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /WebSocket-FLV ws:\/\//);
    assert.equal((await reader.done).code, 0);
    const p = await probe(ffprobe, out);
    assert.equal(streamOf(p, 'video')?.codec_name, 'h264');
    assert.equal(streamOf(p, 'video')?.width, 320);
    assert.equal(streamOf(p, 'audio')?.codec_name, 'aac');
    const duration = Number(p.format.duration);
    assert.ok(Math.abs(duration - 3) < 0.5, `${duration} s`);
    await assertDecodesClean(ffmpeg, out);
    await waitEnded(o.origin, path);
  });

  test('a raw WebSocket client: FLV bytes split across messages anyhow, then a clean close', async () => {
    const path = 'live/wsraw';
    const { ws } = await openWs(o.wsUrl(path).replace(/\.flv$/, ''));
    assert.ok(ws);
    const bytes = readFileSync(fixture('h264-aac-3s.flv'));
    // Odd sizes: the header, tags and PreviousTagSize fields all straddle message boundaries.
    const sizes = [1, 2, 7, 100, 999, 4000, 13, 5000];
    for (let at = 0, i = 0; at < bytes.length; at += sizes[i % sizes.length]!, i++) {
      ws.send(bytes.subarray(at, at + sizes[i % sizes.length]!), { binary: true });
    }
    await waitLive(o.origin, path);
    const stream = o.origin.hub.get(path)!;
    await until('every frame arrived', () => stream.framesIn >= 200, 10_000);
    assert.ok(stream.videoTrack && stream.audioTrack);
    const end = closed(ws);
    ws.close(1000);
    assert.equal((await end).code, 1000);
    await waitEnded(o.origin, path);
  });

  test('refused before the upgrade: a busy name (409), a bad name (400), no signature (401)', async () => {
    const { ws: first } = await openWs(o.wsUrl('live/wsbusy').replace(/\.flv$/, ''));
    first!.send(readFileSync(fixture('h264-aac-3s.flv')).subarray(0, 20_000), { binary: true });
    await waitLive(o.origin, 'live/wsbusy');
    const busy = await openWs(o.wsUrl('live/wsbusy').replace(/\.flv$/, ''));
    assert.equal(busy.status, 409);
    assert.match(busy.body ?? '', /ERR_STREAM_BUSY/);
    // The pusher is told before it sends any media, and exits 6 with the server's reason.
    const push = (url: string) =>
      start(process.execPath, ['--import', 'tsx', RUN, 'push', fixture('h264-aac-3s.flv'), url], 30_000).done;
    const [refused, playUrl] = await Promise.all([
      push(o.wsUrl('live/wsbusy').replace(/\.flv$/, '')),
      push(o.wsUrl('live/wsbusy')),
    ]);
    assert.equal(refused.code, 6, refused.stderr);
    assert.match(refused.stderr, /HTTP 409: ERR_STREAM_BUSY/);
    assert.equal(playUrl.code, 2, 'a .flv URL is the play URL');
    assert.match(playUrl.stderr, /is a play URL/);
    first!.terminate();
    const bad = await openWs(`ws://127.0.0.1:${o.ports.http}/live/b%20d`);
    assert.equal(bad.status, 400);
    assert.match(bad.body ?? '', /ERR_STREAM_NAME/);
    const unsigned = await openWs(`ws://127.0.0.1:${strict.ports.http}/live/signed`);
    assert.equal(unsigned.status, 401);
    assert.match(unsigned.body ?? '', /ERR_AUTH/);
    const ok = await openWs(`ws://127.0.0.1:${strict.ports.http}/live/signed${signed('live/signed')}`);
    assert.ok(ok.ws, 'a signed publish is accepted');
    ok.ws.terminate();
  });

  test('the publish begins with the FLV header and a first tag: a header alone publishes nothing', async () => {
    const { ws } = await openWs(
      `ws://127.0.0.1:${strict.ports.http}/live/headeronly${signed('live/headeronly')}`,
    );
    const end = closed(ws!);
    ws!.send(readFileSync(fixture('h264-aac-3s.flv')).subarray(0, 13), { binary: true });
    // idleTimeoutMs is 1 s on this origin: no first tag in time closes it, policy violation.
    const c = await end;
    assert.equal(c.code, 1008);
    assert.match(c.reason, /no FLV header and first tag within 1000 ms/);
    assert.equal(strict.origin.hub.get('live/headeronly'), undefined, 'nothing was published');
  });

  test('bounds cost that connection: an oversized message (1009), garbage (1007), text (1003)', async () => {
    const url = (name: string) => `ws://127.0.0.1:${strict.ports.http}/live/${name}${signed(`live/${name}`)}`;
    const big = (await openWs(url('big'))).ws!;
    const bigEnd = closed(big);
    big.send(Buffer.alloc(200 * 1024), { binary: true });
    assert.equal((await bigEnd).code, 1009);

    const garbage = (await openWs(url('garbage'))).ws!;
    const garbageEnd = closed(garbage);
    garbage.send(Buffer.from('<html>not flv at all</html>'), { binary: true });
    const g = await garbageEnd;
    assert.equal(g.code, 1007);
    assert.match(g.reason, /ERR_FLV_FORMAT/);

    const text = (await openWs(url('text'))).ws!;
    const textEnd = closed(text);
    text.send('FLV');
    assert.equal((await textEnd).code, 1003);
    for (const n of ['big', 'garbage', 'text']) assert.equal(strict.origin.hub.get(`live/${n}`), undefined);
  });
});
