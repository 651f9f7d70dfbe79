/**
 * The web port's static files (the recordings) over real HTTP: symlinks in the data directory
 * never lead out of it (issue 9.6).
 */
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startOrigin, type TestOrigin } from '../helpers/origin.js';

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
});
