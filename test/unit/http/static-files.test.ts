import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  ifNoneMatchHits,
  parseRange,
  realPathInside,
  resolveInside,
} from '../../../src/http/static-files.js';

test('resolveInside keeps every path inside the root', () => {
  const root = '/srv/data';
  const cases: [string, string | undefined][] = [
    ['/hls/live/a/index.m3u8', '/srv/data/hls/live/a/index.m3u8'],
    ['/flv//live/a/x.flv', '/srv/data/flv/live/a/x.flv'],
    ['/../etc/passwd', undefined],
    ['/hls/../../etc/passwd', undefined],
    ['/hls/%2e%2e/%2e%2e/etc/passwd', undefined],
    ['/hls/..%2f..%2fetc/passwd', undefined],
    ['/hls/a%5c..%5cb', undefined],
    ['/hls/a%00.ts', undefined],
    ['/hls/%E0%A4%A', undefined],
    ['/hls/./a', undefined],
  ];
  for (const [input, want] of cases) assert.equal(resolveInside(root, input), want, input);
});

test('parseRange follows RFC 9110 byte ranges', () => {
  const size = 1000;
  assert.deepEqual(parseRange('bytes=0-99', size), { start: 0, end: 99 });
  assert.deepEqual(parseRange('bytes=900-', size), { start: 900, end: 999 });
  assert.deepEqual(parseRange('bytes=-100', size), { start: 900, end: 999 });
  assert.deepEqual(parseRange('bytes=990-2000', size), { start: 990, end: 999 });
  assert.equal(parseRange('bytes=1000-', size), 'invalid');
  assert.equal(parseRange('bytes=5-1', size), 'invalid');
  assert.equal(parseRange('bytes=-', size), 'invalid');
  assert.equal(parseRange('bytes=0-1,5-6', size), undefined);
  assert.equal(parseRange('items=0-1', size), undefined);
});

test('realPathInside resolves symlinks and keeps the result inside the real root', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'estuary-static-'));
  try {
    const data = join(tmp, 'data');
    mkdirSync(join(data, 'hls'), { recursive: true });
    writeFileSync(join(data, 'hls', 'a.ts'), 'x');
    writeFileSync(join(tmp, 'secret'), 'outside');
    symlinkSync(join(tmp, 'secret'), join(data, 'hls', 'out.ts'));
    symlinkSync(tmp, join(data, 'up'));
    symlinkSync(join(data, 'hls', 'a.ts'), join(data, 'hls', 'in.ts'));
    // A data directory that is itself a symlink (e.g. /srv/data -> /mnt/disk1) still works.
    symlinkSync(data, join(tmp, 'link-to-data'));
    const real = realpathSync(join(data, 'hls', 'a.ts'));
    const cases: [string, string, string | undefined][] = [
      [data, join(data, 'hls', 'a.ts'), real],
      [data, join(data, 'hls', 'in.ts'), real],
      [data, join(data, 'hls', 'out.ts'), undefined],
      [data, join(data, 'up', 'secret'), undefined],
      [data, join(data, 'hls', 'missing.ts'), undefined],
      [join(tmp, 'link-to-data'), join(tmp, 'link-to-data', 'hls', 'a.ts'), real],
    ];
    for (const [root, file, want] of cases) assert.equal(await realPathInside(root, file), want, file);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('If-None-Match: *, lists and weak comparison (RFC 9110 13.1.2, 8.8.3.2)', () => {
  const etag = '"1f4-18c2a"';
  const cases: [string, boolean][] = [
    ['*', true],
    [' * ', true],
    ['"1f4-18c2a"', true],
    ['W/"1f4-18c2a"', true],
    ['"other", "1f4-18c2a"', true],
    ['"a","b",W/"1f4-18c2a"', true],
    ['"1f4-18c2b"', false],
    ['"a", "b"', false],
    ['1f4-18c2a', false],
    ['', false],
  ];
  for (const [header, want] of cases) assert.equal(ifNoneMatchHits(header, etag), want, header);
});
