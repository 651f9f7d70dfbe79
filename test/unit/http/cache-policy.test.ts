/** Cache-Control decided from the data directory alone: growing files revalidate, written-once keep. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cacheControlFor, IMMUTABLE, NO_CACHE } from '../../../src/http/cache-policy.js';

const root = mkdtempSync(join(tmpdir(), 'estuary-cache-'));
after(() => rmSync(root, { recursive: true, force: true }));

function put(rel: string): void {
  const path = join(root, rel);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, '');
}

for (const f of [
  'flv/live/a/20250101_000000.flv',
  'flv/live/a/20250101_000100.flv',
  'flv/live/a/20250101_000100.flv.recording',
  'hls/live/a/.recording',
  'hls/live/a/index.m3u8',
  'hls/live/a/segment_20250101_000100_00003.ts',
  'hls/live/a/segment_20250101_000100_00004.ts.part',
  'hls/live/b/index.m3u8',
  'hls/live/b/segment_20250101_000100-2_00000.ts',
  'hls/live/b/segment_00000.ts',
  'hls/live/a.20250101_000000/index.m3u8',
  'hls/live/a.20250101_000000/segment_20250101_000000_00000.ts',
  'mp4/live/a/.recording',
  'mp4/live/a/output_merge/init.mp4',
  'mp4/live/a/output_merge/seg_20250101_000100_000001.m4s',
  'mp4/live/a/output_merge/index.m3u8.tmp',
  'mp4/live/b/output_merge/b_full.mp4',
  'mp4/live/b/output_merge/meta.json',
  'mp4/live/b.20240101_000000/output_merge/b_full.mp4',
]) {
  put(f);
}

const cases: [string, string][] = [
  ['flv/live/a/20250101_000000.flv', IMMUTABLE], // finished: no sidecar
  ['flv/live/a/20250101_000100.flv', NO_CACHE], // still being written
  ['hls/live/a/index.m3u8', NO_CACHE],
  ['hls/live/a/segment_20250101_000100_00003.ts', IMMUTABLE], // live, but written once
  ['hls/live/a/segment_20250101_000100_00004.ts.part', NO_CACHE],
  ['hls/live/b/index.m3u8', NO_CACHE], // ended, but the next session rewrites it
  ['hls/live/b/segment_20250101_000100-2_00000.ts', IMMUTABLE],
  ['hls/live/b/segment_00000.ts', NO_CACHE], // a name without a session id may come again
  ['hls/live/a.20250101_000000/index.m3u8', IMMUTABLE], // an earlier, finished session
  ['hls/live/a.20250101_000000/segment_20250101_000000_00000.ts', IMMUTABLE],
  ['mp4/live/a/output_merge/init.mp4', NO_CACHE],
  ['mp4/live/a/output_merge/seg_20250101_000100_000001.m4s', IMMUTABLE],
  ['mp4/live/a/output_merge/index.m3u8.tmp', NO_CACHE],
  ['mp4/live/b/output_merge/b_full.mp4', NO_CACHE],
  ['mp4/live/b/output_merge/meta.json', NO_CACHE],
  ['mp4/live/b.20240101_000000/output_merge/b_full.mp4', IMMUTABLE],
];

test('cacheControlFor: growing files no-cache, written-once files immutable', async () => {
  for (const [rel, want] of cases) {
    assert.equal(await cacheControlFor(root, rel.split('/'), join(root, rel)), want, rel);
  }
});
