/**
 * Debian's nginx with deploy/nginx-cache.conf in front of two file gateways (issue 14): a second
 * request for a segment is a cache HIT that never reaches a gateway (their access logs), the live
 * playlist is never older than its 1 s micro-cache allows (under 2 s: nginx counts whole seconds;
 * plus the gateway's re-stat), and with one
 * gateway gone every request still goes through the other.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFileGateway, type TestGateway } from '../helpers/file-gateway.js';
import { renderCacheConf, startNginx, type TestNginx } from '../helpers/nginx.js';
import { requireTool, tools } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const segName = (i: number) => `segment_20240101_120000_${String(i).padStart(5, '0')}.ts`;
const segBody = (i: number) => Buffer.alloc(188 * 50, i + 1);
/**
 * The playlist micro-cache of deploy/nginx-cache.conf (proxy_cache_valid 200 1s): nginx keeps
 * expiry in whole seconds, so a copy made early in second T is served until T+2.
 */
const PLAYLIST_CACHE_MS = 2000;
const RESTAT_MS = 250;

describe('nginx cache in front of two file gateways', { timeout: 60_000 }, () => {
  let dir: string;
  let hls: string;
  const gateways: TestGateway[] = [];
  let nginx: TestNginx | undefined;
  let base = '';

  before(async () => {
    if (!tools.nginx) return; // each test fails (CI) or skips through requireTool
    dir = mkdtempSync(join(tmpdir(), 'estuary-nginx-files-'));
    hls = join(dir, 'data', 'hls', 'live', 'stream');
    mkdirSync(hls, { recursive: true });
    writeFileSync(join(hls, '.recording'), '');
    for (let i = 0; i < 10; i++) writeFileSync(join(hls, segName(i)), segBody(i));
    writeFileSync(join(hls, 'index.m3u8'), '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n');
    for (const name of ['g1', 'g2']) {
      gateways.push(
        await startFileGateway(join(dir, 'data'), {
          accessLog: join(dir, `${name}.log`),
          restatMs: RESTAT_MS,
        }),
      );
    }
    const ports = [gateways[0]!.port, gateways[1]!.port] as const;
    nginx = await startNginx(tools.nginx, (port, d) => renderCacheConf(ports, port, d));
    base = `http://127.0.0.1:${nginx.port}`;
  });
  after(async () => {
    await nginx?.stop();
    for (const g of gateways) await g.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Requests both gateways have logged so far (their access logs are written asynchronously). */
  const upstreamCount = async (): Promise<number> => {
    let last = -1;
    let n = 0;
    // Settled: the same count twice 100 ms apart.
    await until('the access logs settle', async () => {
      await new Promise((r) => setTimeout(r, 100));
      n = gateways.reduce((sum, g) => sum + g.accessLines().length, 0);
      const same = n === last;
      last = n;
      return same;
    });
    return n;
  };

  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`);
    const body = Buffer.from(await res.arrayBuffer());
    return { status: res.status, cache: res.headers.get('x-cache-status'), body };
  };

  test('a second request for a segment is a HIT that never reaches a gateway', async (t) => {
    if (!requireTool(t, 'nginx')) return;
    const path = `/hls/live/stream/${segName(0)}`;
    const first = await get(path);
    assert.equal(first.status, 200);
    assert.equal(first.cache, 'MISS');
    assert.deepEqual(first.body, segBody(0));
    const before = await upstreamCount();
    assert.ok(before >= 1, 'the MISS went to a gateway');
    for (let i = 0; i < 5; i++) {
      const again = await get(path);
      assert.equal(again.status, 200);
      assert.equal(again.cache, 'HIT');
      assert.deepEqual(again.body, segBody(0));
    }
    const ranged = await fetch(`${base}${path}`, { headers: { Range: 'bytes=0-9' } });
    assert.equal(ranged.status, 206, 'a range cut from the cached copy');
    assert.equal(ranged.headers.get('x-cache-status'), 'HIT');
    assert.equal((await ranged.arrayBuffer()).byteLength, 10);
    assert.equal(await upstreamCount(), before, 'no gateway saw the HITs');
  });

  test('the live playlist is never served older than its micro-cache allows', async (t) => {
    if (!requireTool(t, 'nginx')) return;
    const path = '/hls/live/stream/index.m3u8';
    const file = join(hls, 'index.m3u8');
    for (let version = 1; version <= 2; version++) {
      await get(path);
      assert.equal((await get(path)).cache, 'HIT', 'the playlist is micro-cached');
      const text = `#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:${version}\n`;
      writeFileSync(file, text);
      const when = new Date(Date.now() + version * 1000);
      utimesSync(file, when, when);
      const changed = Date.now();
      let seenAfter = -1;
      while (Date.now() - changed < 5000) {
        const r = await get(path);
        assert.equal(r.status, 200);
        if (r.body.toString() === text) {
          seenAfter = Date.now() - changed;
          break;
        }
        await new Promise((res) => setTimeout(res, 20));
      }
      assert.ok(seenAfter >= 0, 'the new playlist never came through');
      // The bound: nginx's whole-second 1 s, the gateway's re-stat, and up to a second for a
      // loaded machine (a copy kept for good would fail it).
      assert.ok(
        seenAfter <= PLAYLIST_CACHE_MS + RESTAT_MS + 1000,
        `the old playlist was served ${seenAfter} ms after the new one was written`,
      );
    }
  });

  test('with one gateway gone, every request goes through the other', async (t) => {
    if (!requireTool(t, 'nginx')) return;
    const [g1, g2] = gateways as [TestGateway, TestGateway];
    await g1.stop();
    const before2 = g2.accessLines().length;
    for (let i = 1; i < 10; i++) {
      const r = await get(`/hls/live/stream/${segName(i)}`);
      assert.equal(r.status, 200, `segment ${i}`);
      assert.equal(r.cache, 'MISS');
      assert.deepEqual(r.body, segBody(i));
    }
    const playlist = await fetch(`${base}/hls/live/stream/index.m3u8`);
    assert.equal(playlist.status, 200);
    await playlist.arrayBuffer();
    await until('the other gateway logged them', () => g2.accessLines().length >= before2 + 9, 5000);
    assert.doesNotMatch(nginx!.errorLog(), /\[emerg\]/);
  });
});
