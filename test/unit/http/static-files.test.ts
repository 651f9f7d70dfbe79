import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRange, resolveInside } from '../../../src/http/static-files.js';

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
