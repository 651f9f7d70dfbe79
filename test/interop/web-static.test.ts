/**
 * The web port's static files (the recordings) over real HTTP: symlinks in the data directory
 * never lead out of it (issue 9.6); conditional GET; cache headers that let a cache in front keep
 * what cannot change and revalidate what still grows (issue 11.4).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fixture, publishArgs } from '../helpers/media.js';
import { startOrigin, type TestOrigin, waitEnded, waitLive } from '../helpers/origin.js';
import { run, start } from '../helpers/run.js';
import { requireTool } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';

describe('web port static files', () => {
  let o: TestOrigin;
  let base: string;
  before(async () => {
    o = await startOrigin({ record: { flv: false, hls: false, mp4: false } });
    base = `http://127.0.0.1:${o.ports.web}`;
  });
  after(() => o.stop());

  test('a symlink out of the data directory is refused; one inside it is served', async () => {
    const flv = join(o.dataDir, 'flv');
    mkdirSync(join(flv, 'live'), { recursive: true });
    writeFileSync(join(flv, 'live', 'a.flv'), 'FLV inside');
    symlinkSync('/etc', join(flv, 'evil'));
    symlinkSync('/etc/passwd', join(flv, 'live', 'passwd.flv'));
    symlinkSync(join(flv, 'live'), join(flv, 'alias'));
    for (const path of ['/flv/evil/passwd', '/flv/live/passwd.flv', '/flv/evil/hostname']) {
      const res = await fetch(`${base}${path}`);
      const body = await res.text();
      assert.equal(res.status, 404, `${path}: ${res.status} ${body.slice(0, 80)}`);
      assert.ok(!body.includes('root:'), `${path} leaked a file from outside`);
    }
    const alias = await fetch(`${base}/flv/alias/a.flv`);
    assert.equal(alias.status, 200);
    assert.equal(await alias.text(), 'FLV inside');
  });

  test('conditional GET: If-None-Match (*, lists, weak) and If-Modified-Since give 304', async () => {
    const dir = join(o.dataDir, 'hls', 'live', 'cond');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'segment_00000.ts'), Buffer.alloc(188, 0x47));
    const url = `${base}/hls/live/cond/segment_00000.ts`;
    const first = await fetch(url);
    assert.equal(first.status, 200);
    await first.arrayBuffer();
    const etag = first.headers.get('etag')!;
    const lastModified = first.headers.get('last-modified')!;
    const cases: [Record<string, string>, number][] = [
      [{ 'If-None-Match': '*' }, 304],
      [{ 'If-None-Match': etag }, 304],
      [{ 'If-None-Match': `"nope", W/${etag}` }, 304],
      [{ 'If-None-Match': '"nope"' }, 200],
      [{ 'If-Modified-Since': lastModified }, 304],
      [{ 'If-Modified-Since': 'Thu, 01 Jan 1970 00:00:00 GMT' }, 200],
      // If-None-Match decides when both are sent (13.2.2).
      [{ 'If-None-Match': '"nope"', 'If-Modified-Since': lastModified }, 200],
    ];
    for (const [headers, status] of cases) {
      const res = await fetch(url, { headers });
      assert.equal(res.status, status, JSON.stringify(headers));
      await res.arrayBuffer();
    }
    const missing = await fetch(`${base}/hls/live/cond/none.ts`, { headers: { 'If-None-Match': '*' } });
    assert.equal(missing.status, 404, 'If-None-Match: * never matches a file that is not there');
  });

  test('Cache-Control: a live recording revalidates, its written-once segments and a finished one keep', async (t) => {
    const ffmpeg = requireTool(t, 'ffmpeg');
    if (!ffmpeg) return;
    const rec = await startOrigin({ record: { flv: true, hls: true, mp4: true } });
    t.after(() => rec.stop());
    const web = `http://127.0.0.1:${rec.ports.web}`;
    const path = 'live/cache';
    const cacheOf = async (rel: string) => {
      const res = await fetch(`${web}/${rel}`);
      await res.arrayBuffer();
      assert.equal(res.status, 200, rel);
      return res.headers.get('cache-control');
    };
    const pub = start(ffmpeg, publishArgs(fixture('h264-aac-bframes-10s.flv'), rec.rtmpUrl(path), true));
    try {
      await waitLive(rec.origin, path);
      const hlsDir = join(rec.dataDir, 'hls', path);
      // The recorders make their folders as they start, a moment after the publish is live.
      const files = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);
      const flvDir = join(rec.dataDir, 'flv', path);
      await until('a whole HLS segment', () => files(hlsDir).some((f) => f.endsWith('.ts')));
      await until('the FLV recording', () => files(flvDir).some((f) => f.endsWith('.flv')));
      const flvName = readdirSync(flvDir).find((f) => f.endsWith('.flv'))!;
      const segment = readdirSync(hlsDir).find((f) => f.endsWith('.ts'))!;
      const part = readdirSync(hlsDir).find((f) => f.endsWith('.ts.part'));
      assert.equal(await cacheOf(`flv/${path}/${flvName}`), 'no-cache', 'the growing FLV');
      assert.equal(await cacheOf(`hls/${path}/index.m3u8`), 'no-cache', 'the live playlist');
      assert.equal(await cacheOf(`hls/${path}/${segment}`), IMMUTABLE, 'a segment, written once');
      if (part) assert.equal(await cacheOf(`hls/${path}/${part}`), 'no-cache', 'the open segment');
      assert.equal(
        await cacheOf(`mp4/${path}/output_merge/init.mp4`),
        'no-cache',
        'the next session rewrites it',
      );
    } finally {
      pub.child.kill('SIGKILL');
      await pub.done;
    }
    await waitEnded(rec.origin, path);
    const flvName = readdirSync(join(rec.dataDir, 'flv', path)).find((f) => f.endsWith('.flv'))!;
    assert.equal(await cacheOf(`flv/${path}/${flvName}`), IMMUTABLE, 'a finished FLV');
    // A second session moves the first one's folders aside: finished for good.
    const again = await run(ffmpeg, publishArgs(fixture('h264-aac-3s.flv'), rec.rtmpUrl(path)));
    assert.equal(again.code, 0, again.stderr);
    await waitEnded(rec.origin, path);
    const moved = readdirSync(join(rec.dataDir, 'hls', 'live')).find((d) => d.startsWith('cache.'))!;
    assert.equal(await cacheOf(`hls/live/${moved}/index.m3u8`), IMMUTABLE, 'an earlier session');
    assert.equal(await cacheOf(`hls/${path}/index.m3u8`), 'no-cache', 'the latest session');
  });
});
